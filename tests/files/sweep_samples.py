"""Id of one uploaded file in ``org``, for the tenancy sweep."""

import io

from webapp.extensions import db
from webapp.files import services as files


def _file(org, user):
    upload = files.upload_file(org, user, io.BytesIO(b"%PDF-1.4\nsweep"), "sweep.pdf", "PROJECT_ASSET")
    db.session.commit()
    return upload.id


SAMPLES = {"file_id": _file}
