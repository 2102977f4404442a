"""Finding the animal before identifying it: detectors trained with Lightning on the rows that
have a box (:func:`photoid.detect.train.train_detector`), loaded from a run or a public weights
file (:class:`photoid.detect.run.Detector`), and run over a dataset to write its ``bbox``
column (:func:`photoid.detect.run.detect_dataset`)."""
