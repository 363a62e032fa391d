#!/usr/bin/env bash
# Sets up iaug on a Debian/Ubuntu machine: espeak-ng (for the offline corpora)
# and the iaug package with its pinned dependencies (torch 2.11.0,
# torchaudio 2.11.0, speechbrain 1.1.2, ...) into the active Python.
#   bash tools/install.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v espeak-ng >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "[install] espeak-ng (Debian package)"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq espeak-ng >/dev/null
fi

echo "[install] iaug and its Python dependencies"
python3 -m pip install --quiet --disable-pip-version-check -e ".[test]"

python3 - <<'PY'
import speechbrain, torch, torchaudio
print(f"[install] ok: torch {torch.__version__}, torchaudio {torchaudio.__version__}, "
      f"speechbrain {speechbrain.__version__}, cuda available: {torch.cuda.is_available()}")
PY
espeak-ng --version
