# Sizes of files as they travel: raw; zipped alone with deflate at zlib's default
# level, as `sam deploy` zips a function's folder (Python's zipfile, ZIP_DEFLATED);
# gzip -9; brotli at quality 11, as a CDN serves a site's static files.
# Usage: python sizes.py [--brotli] FILE...  Prints one JSON object per file, one a
# line (brotli, slow on megabytes, only when asked).
import gzip
import io
import json
import os
import sys
import zipfile

args = sys.argv[1:]
with_brotli = args[:1] == ["--brotli"]
if with_brotli:
    import brotli
for path in args[1:] if with_brotli else args:
    data = open(path, "rb").read()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr(os.path.basename(path), data)
    print(
        json.dumps(
            {
                "file": path,
                "raw": len(data),
                "zip": len(buffer.getvalue()),
                "gzip": len(gzip.compress(data, compresslevel=9, mtime=0)),
                "brotli": len(brotli.compress(data, quality=11)) if with_brotli else None,
            }
        )
    )
