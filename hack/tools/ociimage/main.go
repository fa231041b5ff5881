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

// Command ociimage packs a root filesystem directory into a single-layer
// container image, without a Docker engine: a docker-archive tarball that
// `ctr images import` and `docker load` read.
//
//	ociimage -rootfs DIR -tag REF -o OUT.tar [-entrypoint A -entrypoint B] [-cmd C] [-env K=V] [-user U] [-workdir D]
//
// The layer is reproducible: entries are written in lexical order with a fixed
// modification time, so the same rootfs always gives the same image digest.
package main

import (
	"archive/tar"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// list is a flag that may be given more than once.
type list []string

func (l *list) String() string     { return strings.Join(*l, " ") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

// epoch is every entry's modification time, for reproducible layers.
var epoch = time.Unix(0, 0).UTC()

func main() {
	var (
		rootfs, tag, out, user, workdir string
		entrypoint, cmd, env              list
	)
	flag.StringVar(&rootfs, "rootfs", "", "the directory to pack as the image's root filesystem")
	flag.StringVar(&tag, "tag", "", "the image reference, e.g. localhost/learning-sandbox/redis:7")
	flag.StringVar(&out, "o", "", "the docker-archive tarball to write")
	flag.StringVar(&user, "user", "", "the user the image runs as, uid[:gid]")
	flag.StringVar(&workdir, "workdir", "", "the working directory")
	flag.Var(&entrypoint, "entrypoint", "an entrypoint argument (repeat for more)")
	flag.Var(&cmd, "cmd", "a command argument (repeat for more)")
	flag.Var(&env, "env", "an environment variable K=V (repeat for more)")
	flag.Parse()
	if rootfs == "" || tag == "" || out == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := pack(rootfs, tag, out, v1.Config{
		Entrypoint: entrypoint, Cmd: cmd, Env: env, User: user, WorkingDir: workdir,
	}); err != nil {
		fmt.Fprintf(os.Stderr, "ociimage: %v\n", err)
		os.Exit(1)
	}
}

func pack(rootfs, tag, out string, config v1.Config) error {
	ref, err := name.NewTag(tag)
	if err != nil {
		return fmt.Errorf("parsing the tag: %w", err)
	}
	layerFile, err := os.CreateTemp(filepath.Dir(out), ".layer-*.tar")
	if err != nil {
		return err
	}
	defer os.Remove(layerFile.Name())
	if err := writeLayer(layerFile, rootfs); err != nil {
		layerFile.Close()
		return fmt.Errorf("packing %s: %w", rootfs, err)
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
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Created = v1.Time{Time: epoch}
	cf.Config = config
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return err
	}
	tmp := out + ".tmp"
	if err := tarball.WriteToFile(tmp, ref, img); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}

// writeLayer writes the tree under root as an uncompressed tar, keeping
// owners, modes and symbolic links.
func writeLayer(w io.Writer, root string) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil || rel == "." {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(path); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		hdr.Name = filepath.ToSlash(rel)
		if info.IsDir() {
			hdr.Name += "/"
		}
		hdr.Uname, hdr.Gname = "", ""
		hdr.ModTime, hdr.AccessTime, hdr.ChangeTime = epoch, time.Time{}, time.Time{}
		hdr.Format = tar.FormatPAX
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err != nil {
		return err
	}
	return tw.Close()
}
