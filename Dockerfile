# syntax=docker/dockerfile:1
#
# openclair: the `clair` server and the `clairctl` CLI in one small image.
#
#   docker build -t openclair/clair .
#   docker run --rm -v $PWD/deploy/config.yaml:/etc/clair/config.yaml:ro -p 6060:6060 -p 8089:8089 openclair/clair
#   docker run --rm --entrypoint /bin/clairctl openclair/clair scan alpine:3.20

FROM golang:1.26 AS build
WORKDIR /src
# Modules first: this layer is reused until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# CGO off: the SQLite driver is pure Go (modernc.org/sqlite), so the binaries
# are static and run on a base image with no libc. -trimpath keeps build
# paths out of them.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/clair ./cmd/clair && \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/clairctl ./cmd/clairctl

# distroless/static: CA certificates (registries and feeds are HTTPS),
# tzdata and a passwd entry for "nonroot" (65532), and nothing else: no
# shell, no package manager for a compromised process to use.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/clair /out/clairctl /bin/
COPY deploy/config.yaml /etc/clair/config.yaml
USER 65532:65532
# 6060: the API; 8089: introspection (/healthz, /readyz, /metrics).
EXPOSE 6060 8089
ENTRYPOINT ["/bin/clair"]
CMD ["-config", "/etc/clair/config.yaml"]
