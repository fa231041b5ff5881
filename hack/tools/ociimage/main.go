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

// Command ociimage builds container images without a Docker engine, with
// go-containerregistry, and pushes them.
//
// Pack a root filesystem directory, or a list of files, into a single-layer
// image, written as a docker-archive tarball (`ctr images import` and `docker
// load` read it) or an OCI image layout archive (`ctr images import`,
// `skopeo copy oci-archive:`, and this tool's -push read it):
//
//	ociimage -rootfs DIR -tag REF -o OUT.tar [-entrypoint A ...] [-cmd C] [-env K=V] [-user U] [-workdir D]
//	ociimage -file SRC=/DEST[=MODE] ... -tag REF -o OUT.tar -format oci [-platform linux/arm64] ...
//
// Push an OCI archive that -format oci wrote to a registry, with the
// credentials of ~/.docker/config.json (docker login, crane auth login):
//
//	ociimage -push OUT.tar -to REGISTRY/REPO:TAG [-insecure]
//
// The layer is reproducible: entries are written in lexical order with a fixed
// modification time, and -file entries are owned by root with the given mode,
// so the same inputs always give the same image digest.
package main

import (
	"archive/tar"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// list is a flag that may be given more than once.
type list []string

func (l *list) String() string     { return strings.Join(*l, " ") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	var (
		rootfs, tag, out, user, workdir, format, platform, push, to string
		entrypoint, cmd, env, files                                 list
		insecure                                                    bool
	)
	flag.StringVar(&rootfs, "rootfs", "", "the directory to pack as the image's root filesystem")
	flag.Var(&files, "file", "SRC=/DEST[=MODE]: a file to put in the image instead of -rootfs (repeat for more; MODE is octal, default 0644)")
	flag.StringVar(&tag, "tag", "", "the image reference, e.g. localhost/learning-sandbox/redis:7")
	flag.StringVar(&out, "o", "", "the archive to write")
	flag.StringVar(&format, "format", "docker", "the archive's format: docker (docker-archive) or oci (OCI image layout)")
	flag.StringVar(&platform, "platform", "linux/"+runtime.GOARCH, "the image's OS/architecture")
	flag.StringVar(&user, "user", "", "the user the image runs as, uid[:gid]")
	flag.StringVar(&workdir, "workdir", "", "the working directory")
	flag.Var(&entrypoint, "entrypoint", "an entrypoint argument (repeat for more)")
	flag.Var(&cmd, "cmd", "a command argument (repeat for more)")
	flag.Var(&env, "env", "an environment variable K=V (repeat for more)")
	flag.StringVar(&push, "push", "", "an OCI archive to push, instead of packing one")
	flag.StringVar(&to, "to", "", "with -push: the reference to push to, e.g. ghcr.io/org/image:tag")
	flag.BoolVar(&insecure, "insecure", false, "with -push: allow a registry over plain HTTP")
	flag.Parse()

	var err error
	switch {
	case push != "" && to != "":
		err = pushArchive(push, to, insecure)
	case tag != "" && out != "" && (rootfs == "") != (len(files) == 0):
		err = pack(packing{
			rootfs: rootfs, files: files, tag: tag, out: out, format: format, platform: platform,
			config: v1.Config{Entrypoint: entrypoint, Cmd: cmd, Env: env, User: user, WorkingDir: workdir},
		})
	default:
		flag.Usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "ociimage: %v\n", err)
		os.Exit(1)
	}
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
