/*
Copyright 2026.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package main

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// epoch is every entry's modification time, for reproducible layers.
var epoch = time.Unix(0, 0).UTC()

// The annotations by which containerd (`ctr images import`) and other OCI
// tools name an image of an OCI layout.
const (
	annotationRefName   = "org.opencontainers.image.ref.name"
	annotationImageName = "io.containerd.image.name"
)

// packing is what to pack into one image, and where to write it.
type packing struct {
	rootfs   string
	files    []string
	tag      string
	out      string
	format   string
	platform string
	config   v1.Config
}

func pack(p packing) error {
	ref, err := name.NewTag(p.tag)
	if err != nil {
		return fmt.Errorf("parsing the tag: %w", err)
	}
	osName, arch, ok := strings.Cut(p.platform, "/")
	if !ok {
		return fmt.Errorf("-platform %q: write OS/ARCH, e.g. linux/amd64", p.platform)
	}
	if p.format != "docker" && p.format != "oci" {
		return fmt.Errorf("-format %q: write docker or oci", p.format)
	}
	if err := os.MkdirAll(filepath.Dir(p.out), 0o755); err != nil {
		return err
	}
	layerFile, err := os.CreateTemp(filepath.Dir(p.out), ".layer-*.tar")
	if err != nil {
		return err
	}
	defer os.Remove(layerFile.Name())
	if p.rootfs != "" {
		err = writeLayer(layerFile, p.rootfs)
	} else {
		err = writeFiles(layerFile, p.files)
	}
	if err != nil {
		layerFile.Close()
		return fmt.Errorf("packing the layer: %w", err)
	}
	if err := layerFile.Close(); err != nil {
		return err
	}
	layer, err := tarball.LayerFromFile(layerFile.Name())
	if err != nil {
		return err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = osName, arch
	cf.Created = v1.Time{Time: epoch}
	cf.Config = p.config
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return err
	}
	tmp := p.out + ".tmp"
	if p.format == "oci" {
		err = writeOCIArchive(tmp, ref, img)
	} else {
		err = tarball.WriteToFile(tmp, ref, img)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, p.out)
}

// writeFiles writes a layer of the given SRC=/DEST[=MODE] files, owned by
// root, with their parent directories.
func writeFiles(w io.Writer, specs []string) error {
	type entry struct {
		src, dest string
		mode      int64
	}
	var entries []entry
	dirs := map[string]bool{}
	for _, spec := range specs {
		parts := strings.Split(spec, "=")
		if len(parts) < 2 || len(parts) > 3 || !path.IsAbs(parts[1]) {
			return fmt.Errorf("-file %q: write SRC=/DEST or SRC=/DEST=MODE", spec)
		}
		e := entry{src: parts[0], dest: path.Clean(parts[1]), mode: 0o644}
		if len(parts) == 3 {
			mode, err := strconv.ParseInt(parts[2], 8, 32)
			if err != nil {
				return fmt.Errorf("-file %q: the mode is octal, e.g. 0755", spec)
			}
			e.mode = mode
		}
		entries = append(entries, e)
		for d := path.Dir(e.dest); d != "/"; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	tw := tar.NewWriter(w)
	var names []string
	for d := range dirs {
		names = append(names, d)
	}
	sort.Strings(names)
	for _, d := range names {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(d, "/") + "/",
			Mode: 0o755, ModTime: epoch, Format: tar.FormatPAX}); err != nil {
			return err
		}
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].dest < entries[j].dest })
	for _, e := range entries {
		data, err := os.ReadFile(e.src)
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: strings.TrimPrefix(e.dest, "/"),
			Mode: e.mode, Size: int64(len(data)), ModTime: epoch, Format: tar.FormatPAX}); err != nil {
			return err
		}
		if _, err := tw.Write(data); err != nil {
			return err
		}
	}
	return tw.Close()
}

// writeOCIArchive writes img as an OCI image layout, named ref, in a tar.
func writeOCIArchive(out string, ref name.Tag, img v1.Image) error {
	dir, err := os.MkdirTemp(filepath.Dir(out), ".oci-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	if err := lp.AppendImage(img, layout.WithAnnotations(map[string]string{
		annotationRefName: ref.String(), annotationImageName: ref.String(),
	})); err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := tarDir(f, dir); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// tarDir writes the files under root as a tar, in lexical order, with fixed
// times and owners.
func tarDir(w io.Writer, root string) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil || rel == "." {
			return err
		}
		hdr := &tar.Header{Name: filepath.ToSlash(rel), ModTime: epoch, Format: tar.FormatPAX}
		if d.IsDir() {
			hdr.Typeflag, hdr.Name, hdr.Mode = tar.TypeDir, hdr.Name+"/", 0o755
			return tw.WriteHeader(hdr)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		hdr.Typeflag, hdr.Mode, hdr.Size = tar.TypeReg, 0o644, int64(len(data))
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err = tw.Write(data)
		return err
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

// readOCIArchive reads the one image of an OCI archive that writeOCIArchive
// wrote, unpacked into dir.
func readOCIArchive(archive, dir string) (v1.Image, error) {
	f, err := os.Open(archive)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s (is it an OCI archive, -format oci?): %w", archive, err)
		}
		target := filepath.Join(dir, filepath.FromSlash(path.Clean("/"+hdr.Name)))
		switch hdr.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(target, 0o755)
		case tar.TypeReg:
			err = writeFile(target, tr)
		}
		if err != nil {
			return nil, err
		}
	}
	index, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("%s is not an OCI archive (write it with -format oci): %w", archive, err)
	}
	manifest, err := index.IndexManifest()
	if err != nil {
		return nil, err
	}
	if len(manifest.Manifests) != 1 {
		return nil, fmt.Errorf("%s holds %d images; one was expected", archive, len(manifest.Manifests))
	}
	return index.Image(manifest.Manifests[0].Digest)
}

func writeFile(target string, r io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	f, err := os.Create(target)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// pushArchive pushes the image of an OCI archive to a registry and prints
// the reference by digest.
func pushArchive(archive, to string, insecure bool) error {
	var opts []name.Option
	if insecure {
		opts = append(opts, name.Insecure)
	}
	ref, err := name.ParseReference(to, opts...)
	if err != nil {
		return fmt.Errorf("-to %q: %w", to, err)
	}
	dir, err := os.MkdirTemp("", "ociimage-push-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	img, err := readOCIArchive(archive, dir)
	if err != nil {
		return err
	}
	if err := remote.Write(ref, img, remote.WithAuthFromKeychain(authn.DefaultKeychain)); err != nil {
		return fmt.Errorf("pushing to %s: %w", ref, err)
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	fmt.Printf("%s@%s\n", ref.Context(), digest)
	return nil
}
