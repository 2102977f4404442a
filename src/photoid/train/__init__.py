"""Training the deep engine (Lightning): configuration, augmentation policies, a torch Dataset,
P x K sampling, checkpoints. Import the module you need (``photoid.train.config`` is light;
``photoid.train.module`` and ``photoid.train.fit`` load Lightning)."""
