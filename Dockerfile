# CPU image (default): installs gputensor with its test extra and runs the test suite,
# the CI-container use. g++ is needed by the CUDA-on-CPU kernel harness.
#   docker build -t gputensor . && docker run --rm gputensor
# CUDA image: the `cuda` target installs the cuda13 extra and precompiles every kernel
# for sm_80/sm_90 at build time, so the first training step pays no NVRTC time.
#   docker build --target cuda -t gputensor:cuda . && docker run --gpus all --rm gputensor:cuda
ARG PYTHON_IMAGE=python:3.11-slim
ARG CUDA_IMAGE=nvidia/cuda:13.0.1-runtime-ubuntu24.04

FROM ${PYTHON_IMAGE} AS cpu
RUN apt-get update && apt-get install -y --no-install-recommends g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN pip install --no-cache-dir -e ".[test]"
CMD ["python", "-m", "pytest"]

FROM ${CUDA_IMAGE} AS cuda
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-venv g++ \
    && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH GPUTENSOR_CACHE_DIR=/opt/gputensor-kernels
WORKDIR /src
COPY . .
RUN pip install --no-cache-dir -e ".[cuda13,keras,test]" && python -m gputensor.precompile --arch sm_80,sm_90 --quiet
CMD ["python", "scripts/train.py"]
