# The hosted demo: the app on port 8501, CPU-only torch, Xception weights baked in at build time.
#   docker build -t mixviz .                          (add --build-arg FETCH_WEIGHTS=0 to skip the weights)
#   docker run --rm -p 8501:8501 mixviz
FROM python:3.11-slim-bookworm

ARG FETCH_WEIGHTS=1
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MPLBACKEND=Agg

RUN useradd --create-home --uid 10001 app
WORKDIR /app

# torch and torchvision from PyTorch's CPU index first (no CUDA libraries), then the rest, pinned
COPY requirements.txt ./
RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu torch==2.14.1 torchvision==0.29.1 \
    && pip install --no-cache-dir -r requirements.txt

COPY --chown=app:app . .
RUN pip install --no-cache-dir --no-deps .

USER 10001
# the weights land in the app user's timm cache, so the running container needs no internet
RUN if [ "$FETCH_WEIGHTS" = "1" ]; then python -m mixviz fetch-weights xception; fi
# no internet at run time, no watching the app's files for edits (a served demo never changes), and torch's large
# tensors on transparent huge pages (app.py sets it too: the live picture's sweeps fault in far fewer pages)
ENV HF_HUB_OFFLINE=1 \
    STREAMLIT_SERVER_FILE_WATCHER_TYPE=none \
    THP_MEM_ALLOC_ENABLE=1

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).read() != b'ok')"]
CMD ["python", "-m", "streamlit", "run", "app.py", "--server.address", "0.0.0.0", "--server.port", "8501"]
