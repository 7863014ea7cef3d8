"""Where an admin import keeps its upload between preview and confirm: the uploader's
session, not the temp folder.

django-import-export writes each previewed file to the temp folder and trusts the
file name the confirm form sends back: a preview never confirmed left its file
behind, and a crafted name could read (and delete) another upload. Here the upload
lives in the session of the editor who sent it, under a random name, one at a time:
nothing is written to disk, an abandoned preview goes with the session (or the next
upload), and a name from anyone else's session finds nothing.
"""

import base64
import contextvars
import difflib
from uuid import uuid4

from django.conf import settings
from django.utils.text import slugify
from import_export.tmp_storages import BaseStorage

SESSION_KEY = "import_upload"
current_session = contextvars.ContextVar("import_session", default=None)


class UploadGone(Exception):
    """The confirm step names an upload this session does not hold."""


def max_upload_bytes():
    return settings.IMPORT_MAX_UPLOAD_BYTES


class SessionStorage(BaseStorage):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.session = current_session.get()
        if self.session is None:
            raise RuntimeError("SessionStorage is used only inside an admin import view.")

    def save(self, data):
        self.name = uuid4().hex
        if isinstance(data, str):
            data = data.encode(self.encoding or "utf-8")
        # One pending upload per session: a new preview replaces the previous one.
        self.session[SESSION_KEY] = {
            "name": self.name,
            "data": base64.b64encode(data).decode("ascii"),
        }

    def read(self):
        held = self.session.get(SESSION_KEY) or {}
        if not self.name or held.get("name") != self.name:
            raise UploadGone(self.name)
        data = base64.b64decode(held["data"])
        if "b" in (self.read_mode or ""):
            return data
        return data.decode(self.encoding or "utf-8")

    def remove(self):
        held = self.session.get(SESSION_KEY) or {}
        if held.get("name") == self.name:
            del self.session[SESSION_KEY]


def suggest(value, model, field="slug", names_field="alternate_names"):
    """The closest key to `value` ("munchen-de" -> "munich-de"), or "".

    Compares with keys ending like `value` (a city slug's country), and with the
    record's other names made into keys ("München" -> "munchen-de").
    """
    value = str(value or "").strip().lower()
    if not value:
        return ""
    suffix = value.rsplit("-", 1)[-1] if "-" in value else ""
    rows = model._default_manager.all()
    if suffix and len(suffix) == 2:
        rows = rows.filter(**{f"{field}__endswith": f"-{suffix}"})
    keys = {}
    has_names = any(f.name == names_field for f in model._meta.fields)
    columns = [field, names_field] if has_names else [field]
    for key, *names in rows.values_list(*columns).iterator(chunk_size=2000):
        keys.setdefault(key, key)
        for name in names[0].splitlines() if names and names[0] else []:
            keys.setdefault(slugify(f"{name} {suffix}") if suffix else slugify(name), key)
    if value in keys:
        return keys[value]
    close = difflib.get_close_matches(value, list(keys), n=1, cutoff=0.75)
    return keys[close[0]] if close else ""
