"""Static files in production: WhiteNoise's compressed, hashed files, with each name's URL worked out once.

``{% static %}`` asks the storage for a URL on every page it draws (the door's pages twice, a portal page a dozen
times); the manifest does not change while the process lives, so the answer is kept. Looking the hashed name up
and quoting it was a few per cent of the door's CPU (issue 12, item 4).
"""

from functools import lru_cache

from whitenoise.storage import CompressedManifestStaticFilesStorage


class CachedUrlStaticFilesStorage(CompressedManifestStaticFilesStorage):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.url = lru_cache(maxsize=1024)(self.url)  # per instance: one storage per process
