"""Camera interop: the pose formats of other tools.

``formats`` reads and writes RealEstate10K / CameraCtrl rows and MotionCtrl RT lists, losslessly (what a file holds
beyond the cameras - clock, URL line, pose size - is kept by ``clock``); ``vfx`` writes and reads glTF 2.0, Nuke /
Blender .chan and nerfstudio camera paths; ``retime`` fits a real camera path to a shot; ``text`` is the file-text
front door the node, the CLI and batch jobs share (:func:`.text.trajectory_to_text`,
:func:`.text.trajectory_from_text`); ``wan`` packs core's WAN_CAMERA_EMBEDDING (Plücker rays);
``tracks`` carries points of the photo through the cameras as core's WanTrackToVideo (Wan ATI) track JSON.
"""
