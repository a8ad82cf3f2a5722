# chronoconf on Debian 12: build with the same Debian packages as
# scripts/setup.sh, then a slim runtime image with the binary only.
#   docker build -t chronoconf .
#   docker run --rm -p 7700:7700 chronoconf serve --store memory: --listen 0.0.0.0:7700 --insecure
FROM debian:12 AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config \
      libboost1.81-dev libsqlite3-dev libpq-dev rapidjson-dev nlohmann-json3-dev \
      libcli11-dev libspdlog-dev libfmt-dev libssl-dev \
      libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler \
      golang-etcd-server-dev golang-github-gogo-protobuf-dev golang-github-gogo-googleapis-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY cmake cmake
COPY src src
COPY ui ui
COPY tests tests
COPY bench bench
# No tests or benchmarks in the image: only the binary is built.
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCHRONOCONF_BUILD_TESTS=OFF -DCHRONOCONF_BUILD_BENCHMARKS=OFF \
    && cmake --build /build --target chronoconf -j"$(nproc)"

FROM debian:12-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libsqlite3-0 libpq5 libssl3 libspdlog1.10 libfmt9 libgrpc++1.51 libprotobuf32 \
      curl ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/chronoconf --create-home chronoconf
COPY --from=build /build/chronoconf /usr/local/bin/chronoconf
USER chronoconf
WORKDIR /var/lib/chronoconf
EXPOSE 7700
ENTRYPOINT ["/usr/local/bin/chronoconf"]
CMD ["serve", "--listen", "0.0.0.0:7700", "--insecure"]
