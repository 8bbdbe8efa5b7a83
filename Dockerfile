# The hosted demo: the app on port 8501, CPU-only torch, Xception weights baked in at build time.
#   docker build -t mixviz .                          (add --build-arg FETCH_WEIGHTS=0 to skip the weights)
#   docker run --rm -p 8501:8501 mixviz
# Without a Docker engine: `bash scripts/build_image.sh` builds this file with buildah, runs the image and checks it.
# The image runs as any user id (uid 10001 here, 1000 on a Hugging Face Space): its files are root's and world-
# readable, and the only things it writes at run time go to /tmp.
FROM python:3.11-slim-bookworm

ARG FETCH_WEIGHTS=1
# Where torch and torchvision come from: PyTorch's index of CPU-only wheels (no CUDA libraries, a small image). A
# builder that cannot reach it names another index here (scripts/build_image.sh: this machine's own wheels).
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
# TORCH_HOME: the weights' folder (torch.hub's cache, where timm looks) outside any home directory, so that a user id
# other than the build's (a Space's 1000, which has no home here) finds them; MPLCONFIGDIR: matplotlib's cache,
# written at run time by whichever user runs the image
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MPLBACKEND=Agg \
    TORCH_HOME=/opt/mixviz/torch \
    MPLCONFIGDIR=/tmp/matplotlib

RUN useradd --create-home --uid 10001 app \
    && mkdir -p /opt/mixviz/torch && chown app:app /opt/mixviz/torch \
    && install -d -m 1777 /var/lib/mixviz
WORKDIR /app

# torch and torchvision from that index first, then the rest, pinned
COPY requirements.txt ./
RUN pip install --no-cache-dir --index-url "$TORCH_INDEX_URL" torch==2.14.1 torchvision==0.29.1 \
    && pip install --no-cache-dir -r requirements.txt

# only what the demo runs comes in (.dockerignore lists it); the files stay root's, so the app cannot change its own
# code. `pip install .` builds in place: its build/ and mixviz.egg-info go in the same step.
COPY . .
RUN pip install --no-cache-dir --no-deps . && rm -rf build ./*.egg-info

USER 10001
# the weights land in TORCH_HOME, so the running container needs no internet
RUN if [ "$FETCH_WEIGHTS" = "1" ]; then python -m mixviz fetch-weights xception; fi
# no internet at run time, no watching the app's files for edits (a served demo never changes), and torch's large
# tensors on transparent huge pages (app.py sets it too: the live picture's sweeps fault in far fewer pages)
# MIXVIZ_DATA_DIR: the polls' SQLite file when no MIXVIZ_DATABASE_URL is given; writable by any uid (10001 here,
# 1000 on a Hugging Face Space), sticky like /tmp. Mount a volume there to keep polls across containers.
ENV MIXVIZ_DATA_DIR=/var/lib/mixviz \
    HF_HUB_OFFLINE=1 \
    STREAMLIT_SERVER_FILE_WATCHER_TYPE=none \
    THP_MEM_ALLOC_ENABLE=1

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).read() != b'ok')"]
# asgi.py: app.py, warmed (the model loaded, the default page run once) before the port opens, so the health check
# answers only once a student would get a warm page
CMD ["python", "-m", "streamlit", "run", "asgi.py", "--server.address", "0.0.0.0", "--server.port", "8501"]
