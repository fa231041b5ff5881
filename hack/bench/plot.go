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
	"fmt"
	"image/color"
	"path/filepath"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// plotReadiness draws, for one run of a scenario, the number of Ready
// sandboxes over the time since the first create: the operator's, and the
// baseline's (all workloads of a sandbox ready) when it ran. It writes an SVG
// into dir and returns its path.
func plotReadiness(res result, dir string) (string, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Ready sandboxes over time: %s, run %d", res.sc, res.run)
	p.X.Label.Text = "seconds since the first create"
	p.Y.Label.Text = "Ready sandboxes"
	p.Y.Min, p.Y.Max = 0, float64(res.sc.n)
	p.Add(plotter.NewGrid())
	p.Legend.Top, p.Legend.Left = true, true
	series := []readySeries{{name: "operator", times: res.ready.times,
		color: color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}}}
	if res.raw != nil {
		series = append(series, readySeries{name: "raw creates", times: res.raw.ready.times,
			color: color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}, dash: []vg.Length{vg.Points(4), vg.Points(3)}})
	}
	for _, s := range series {
		line, err := plotter.NewLine(cumulative(s.times))
		if err != nil {
			return "", fmt.Errorf("plotting %s: %w", s.name, err)
		}
		line.StepStyle = plotter.PostStep
		line.Color, line.Width, line.Dashes = s.color, vg.Points(1.5), s.dash
		p.Add(line)
		p.Legend.Add(s.name, line)
	}
	path := filepath.Join(dir, fmt.Sprintf("bench-%s-run%d-ready.svg", res.sc.slug(), res.run))
	if err := p.Save(16*vg.Centimeter, 10*vg.Centimeter, path); err != nil {
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	return path, nil
}

// readySeries is one line of the picture.
type readySeries struct {
	name  string
	times []time.Duration
	color color.Color
	dash  []vg.Length
}

// cumulative is the count of Ready sandboxes after each time, from (0, 0).
func cumulative(times []time.Duration) plotter.XYs {
	xys := make(plotter.XYs, 0, len(times)+1)
	xys = append(xys, plotter.XY{})
	for i, t := range times {
		xys = append(xys, plotter.XY{X: t.Seconds(), Y: float64(i + 1)})
	}
	return xys
}
