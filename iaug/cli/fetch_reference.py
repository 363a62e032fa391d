"""Fetch the authors' ImportantAug checkpoint from their public repository.

    python3 -m iaug.cli.fetch_reference --out DIR     (or iaug-fetch-reference)

Saves ``DIR/importantaug_clf_frozen.pt`` (the keyword recognizer and the
generator of stage B, "clf_frozen", in the authors' format), checked against
its sha256. A file already there (or in ``--archive_dir``, fetched by hand) is
verified, not downloaded again. Offline it fails in seconds with one line.

The checkpoint enables the KWS recipe's ``--authors_generator`` and
``--eval_authors`` (``run.sh --authors_ckpt DIR/importantaug_clf_frozen.pt``)
and, with ``IAUG_REFERENCE_DIR=DIR``, the tests that load it. The parity tests
also need ``reference_outputs.npz``, which is not public.
"""

import argparse
import sys

from iaug.data import download

FILENAME = "importantaug_clf_frozen.pt"
URL = ("https://github.com/tvanh512/importantAug/raw/6d552bf5c95cad06510e77b3d97c128baefa4b4e/"
       "pretrained_model/importantAugment/clf_frozen/best_clf_frozen.pt")
SHA256 = "515678aaed7b3ce244cf0d4bb33ec24cdd0383621e64ad03383a1b872e08290d"


def fetch_reference(out, archive_dir=None, url=URL, log=print):
    """Path of the verified checkpoint ``importantaug_clf_frozen.pt`` under
    ``out`` (or ``archive_dir``); raises :class:`download.DownloadError`."""
    return download.fetch(url, FILENAME, out, archive_dir=archive_dir, log=log, sha256=SHA256)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="iaug-fetch-reference", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="folder to save the checkpoint in")
    parser.add_argument("--archive_dir", help=f"folder holding {FILENAME} fetched by hand")
    parser.add_argument("--url", default=URL, help="where to download it from (a mirror)")
    args = parser.parse_args(argv)
    try:
        path = fetch_reference(args.out, args.archive_dir, args.url)
    except download.DownloadError as err:
        print(f"iaug-fetch-reference: error: {err}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
