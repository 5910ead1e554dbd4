"""The drawn path and what the user meant by it.

``format`` (the stroke JSON and its one validator, :func:`.format.parse_strokes`) -> ``prepare`` (the camera path,
smoothed and resampled) -> ``features`` (shape measurements) -> ``intent`` (:func:`.intent.analyze`: straight,
arc, circle, spiral, zigzag or freeform, with attributes). ``synthetic`` is a labelled stroke model for tests.
"""
