# The operator's image (the default target) and the sample app's (--target
# sample-app), for those who have Docker. `make images` builds the same two
# images without a Docker engine (hack/images.sh): the static binary, built
# the same way, and the CA certificates; nothing else; user 65532.
#   docker build --build-arg VERSION=0.1.0 -t ghcr.io/learning-sandbox/learning-sandbox-operator:0.1.0 .
#   docker build --target sample-app -t ghcr.io/learning-sandbox/sample-app:0.1.0 .
# Override BASE_IMAGE to build from another registry, e.g. docker.io/library/golang:1.26
ARG BASE_IMAGE=golang:1.26
FROM ${BASE_IMAGE} AS source

WORKDIR /workspace
# Copy the Go Modules manifests
COPY go.mod go.mod
COPY go.sum go.sum
# cache deps before building and copying source so that we don't need to re-download as much
# and so that source changes don't invalidate our downloaded layer
RUN go mod download

# Copy the Go source (relies on .dockerignore to filter)
COPY . .

# The GOARCH has no default, so that the binary is built for the platform
# that docker build was asked for (TARGETARCH), else the host's.
FROM source AS sample-app-builder
ARG TARGETOS
ARG TARGETARCH
RUN CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags="-s -w" -o sample-app ./cmd/sample-app

# The sample app that the operator runs as the App component of every sandbox.
FROM scratch AS sample-app
COPY --from=sample-app-builder /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=sample-app-builder --chmod=0755 /workspace/sample-app /sample-app
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/sample-app"]

FROM source AS builder
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
RUN CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o manager ./cmd

# This stage stays last, so that a plain `docker build .` builds the operator.
FROM scratch
COPY --from=builder /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=builder --chmod=0755 /workspace/manager /manager
USER 65532:65532
ENTRYPOINT ["/manager"]
