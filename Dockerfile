# The assistant's image: the app, the CLI and `chroma run` (one image, so client and server versions match).
# Built by docker-compose.yml; see docs/deploy.md.
FROM python:3.11-slim

ENV PIP_NO_CACHE_DIR=1 PYTHONUNBUFFERED=1 ANONYMIZED_TELEMETRY=False GRADIO_ANALYTICS_ENABLED=False \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
WORKDIR /srv/assistant

# torch first and from PyTorch's CPU index: the same version from PyPI is a multi-GB CUDA build.
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY assistant ./assistant
COPY app.py pyproject.toml README.md ./
# Unprivileged at run time; the volumes are created owned by this user (see docker-compose.yml).
RUN useradd --uid 10001 --create-home assistant && mkdir -p /index /data /chroma && \
    chown assistant /index /data /chroma
USER assistant

EXPOSE 7860
CMD ["python", "app.py", "--host", "0.0.0.0", "--port", "7860", "--index", "/index", "--no-build"]
