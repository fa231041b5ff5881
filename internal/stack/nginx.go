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
package stack

import (
	"fmt"
	"strings"
)

// NginxConfig is the whole nginx.conf of an Nginx component. With an upstream
// (host:port of the App) it is a reverse proxy; without, it serves a welcome
// page. Either way /site/ serves the learner's own pages: the keys of the
// ConfigMap SiteConfigMapName(component) in their namespace, once they make it.
// With a workspace (host:port of the Workspace), WorkspaceRoute forwards to
// the learner's own program, the prefix taken off.
// It runs as a non-root user on a read-only /etc/nginx: everything it
// writes goes to /tmp, and it listens on an unprivileged port.
func NginxConfig(component, upstream, workspace string) string {
	var site string
	if upstream != "" {
		site = fmt.Sprintf(`        location / {
            proxy_pass http://%s;
            proxy_http_version 1.1;
            proxy_set_header Host $host;
            proxy_set_header X-Real-IP $remote_addr;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_connect_timeout 5s;
            proxy_read_timeout 60s;
        }
`, upstream)
	} else {
		site = `        location / {
            default_type text/plain;
            return 200 "Welcome to your learning sandbox. Publish pages of your own: each key of a ConfigMap named SITECONFIGMAP in your namespace is a file under /site/.\n";
        }
`
	}
	conf := `# Rendered by learning-sandbox-operator.
worker_processes 1;
pid /tmp/nginx.pid;
error_log /dev/stderr warn;

events {
    worker_connections 1024;
}

http {
    default_type application/octet-stream;
    access_log /dev/stdout;
    server_tokens off;
    sendfile on;
    keepalive_timeout 65;

    client_body_temp_path /tmp/client_temp;
    proxy_temp_path /tmp/proxy_temp;
    fastcgi_temp_path /tmp/fastcgi_temp;
    uwsgi_temp_path /tmp/uwsgi_temp;
    scgi_temp_path /tmp/scgi_temp;

    server {
        listen WEBPORT;
        server_name _;

        location = /healthz {
            access_log off;
            default_type text/plain;
            return 200 "ok\n";
        }

SITE
        location /site/ {
            alias SITEDIR/;
            index index.html;
            types {
                text/html html htm;
                text/css css;
                text/plain txt;
                application/javascript js;
                application/json json;
            }
        }
    }
}
`
	if workspace != "" {
		site = fmt.Sprintf(`        location %s {
            proxy_pass http://%s/;
            proxy_http_version 1.1;
            proxy_set_header Host $host;
            proxy_set_header X-Real-IP $remote_addr;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Prefix %s;
            proxy_connect_timeout 5s;
            proxy_read_timeout 60s;
        }
`, WorkspaceRoute, workspace, strings.TrimSuffix(WorkspaceRoute, "/")) + site
	}
	conf = strings.ReplaceAll(conf, "WEBPORT", fmt.Sprint(webPort))
	conf = strings.ReplaceAll(conf, "SITEDIR", siteDir)
	site = strings.ReplaceAll(site, "SITECONFIGMAP", SiteConfigMapName(component))
	return strings.Replace(conf, "SITE\n", site, 1)
}

// siteDir is where an Nginx component's pods mount the learner's pages.
const siteDir = "/etc/nginx/site"

// SiteConfigMapName is the ConfigMap whose keys an Nginx component serves
// under /site/: the learner makes it, the operator only mounts it (optional,
// so that the pods start without it, and the kubelet adds the files when it
// appears).
func SiteConfigMapName(component string) string {
	return component + "-site"
}
