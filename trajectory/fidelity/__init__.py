"""Does the clip follow the camera? ``estimate`` recovers the motion a clip shows (features, essential matrix or
homographies); ``report`` (:func:`.report.score_clip`) scores it against the requested trajectory."""
