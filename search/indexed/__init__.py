"""One module per searchable content type: what its documents hold
(:func:`search.documents.register_search`)."""
