# Targets of the operator's and the sample app's images (hack/images.sh),
# included by the Makefile. No Docker engine is needed: the images are built
# with go-containerregistry (hack/tools/ociimage) as OCI archives.

##@ Images

# IMAGES_DIR receives operator.tar and sample-app.tar.
IMAGES_DIR ?= $(LOCALBIN)/images
# IMAGE_PLATFORM is the images' OS/architecture (default: this machine's).
IMAGE_PLATFORM ?= linux/$(shell go env GOARCH)
# SAMPLE_APP_RELEASE_IMG is the sample app's image, the operator's default
# --app-image (internal/stack/settings.go).
SAMPLE_APP_RELEASE_IMG ?= $(IMG_REGISTRY)/sample-app:$(VERSION)
# IMG_INSECURE=1 pushes to a registry over plain HTTP.
IMG_INSECURE ?=

.PHONY: images
images: ## Build the operator's and the sample app's images as OCI archives into bin/images/ (no Docker engine).
	@bash hack/images.sh "$(IMAGES_DIR)" "$(IMAGE_PLATFORM)" "$(VERSION)" "$(IMG)" "$(SAMPLE_APP_RELEASE_IMG)"

.PHONY: images-push
images-push: images ## Push both images to IMG_REGISTRY (credentials from ~/.docker/config.json), e.g. make images-push IMG_REGISTRY=registry.example.edu/learning.
	@ociimage=$$(ls -t "$(LOCALBIN)"/ociimage-* | head -n 1); \
	"$$ociimage" -push "$(IMAGES_DIR)/operator.tar" -to "$(IMG)" $(if $(IMG_INSECURE),-insecure); \
	"$$ociimage" -push "$(IMAGES_DIR)/sample-app.tar" -to "$(SAMPLE_APP_RELEASE_IMG)" $(if $(IMG_INSECURE),-insecure)

# WORKSPACE_LANGUAGES are the built-in languages of the Workspace component.
WORKSPACE_LANGUAGES ?= go java node python

.PHONY: docker-build-workspaces
docker-build-workspaces: ## Build the workspace images of the built-in languages with Docker (hack/workspace/Dockerfile), as IMG_REGISTRY/workspace-<language>:VERSION.
	@for lang in $(WORKSPACE_LANGUAGES); do \
	  $(CONTAINER_TOOL) build -f hack/workspace/Dockerfile --target $$lang -t $(IMG_REGISTRY)/workspace-$$lang:$(VERSION) hack/workspace || exit 1; \
	done
