"""The web service: REST API, authentication and the review pages over a catalog
(:func:`photoid.service.app.create_app`; ``photoid serve`` runs it)."""
