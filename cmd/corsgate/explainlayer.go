package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/corsgate/corsgate/admin"
	"github.com/corsgate/corsgate/admin/client"
	"github.com/corsgate/corsgate/engine/core"
	"github.com/corsgate/corsgate/engine/explain"
	"github.com/corsgate/corsgate/engine/policy"
	"github.com/corsgate/corsgate/state"
	"github.com/corsgate/corsgate/store"
)

// layerFlags are the flags of corsgate explain that choose the run-time
// layer: by default the one the gateway last applied.
type layerFlags struct {
	fileOnly bool
	admin    string
	stateDir string
}

// explainedSnapshot is the snapshot the gateway of g serves, as far as can
// be told from here: the file's CORS settings with the run-time layer the
// flags choose, and which layer that is.
func explainedSnapshot(g *gatewayConfig, f layerFlags) (*core.Snapshot, *explain.LayerUsed, error) {
	layer, prov, used := chooseLayer(g, f)
	if layer == nil {
		return g.ctrl.Snapshot(), used, nil
	}
	eff, err := state.Effective(g.doc, layer, prov)
	if err == nil {
		var s *core.Snapshot
		if s, err = core.Compile(eff, g.ctrl.Routes()); err == nil {
			return s, used, nil
		}
	}
	return nil, used, fmt.Errorf("the run-time layer of revision %d does not validate against this file (%s), so the gateway does not apply it either:\n%v", used.Revision, used.Note, err)
}

// chooseLayer finds the run-time layer: none with --file-only, the
// running gateway's with --admin, else the one the gateway last applied,
// from its state directory (read-only, without opening the store).
func chooseLayer(g *gatewayConfig, f layerFlags) (*policy.Layer, state.Provenance, *explain.LayerUsed) {
	switch {
	case f.fileOnly:
		return nil, nil, &explain.LayerUsed{From: "file-only", Note: "the configuration file alone (--file-only): a run-time layer, if the gateway applies one, is ignored"}
	case f.admin != "":
		return layerFromAdmin(f.admin)
	}
	dir, name, err := admin.StateLocation(g.cfg.ExtraConfig, g.path, f.stateDir)
	if err != nil {
		return nil, nil, &explain.LayerUsed{From: "unknown", Note: fmt.Sprintf("whether the gateway applies a run-time layer cannot be told (%v): the configuration file alone was used; give --admin URL of the running gateway, or --file-only", err)}
	}
	c, err := state.ReadCache(dir, name)
	dir = shown(dir)
	switch {
	case err == nil:
	case os.IsNotExist(err) && !hasStore(filepath.Clean(dir)):
		return nil, nil, &explain.LayerUsed{From: "none", Note: fmt.Sprintf("no gateway with the state directory %s has applied a run-time layer: the configuration file alone", dir)}
	case os.IsNotExist(err):
		return nil, nil, &explain.LayerUsed{From: "unknown", Note: fmt.Sprintf("%s holds a store but no copy of the layer last applied (%s), so whether a run-time layer applies cannot be told: the configuration file alone was used; give --admin URL of the running gateway, or --file-only", dir, state.CacheFile)}
	default:
		return nil, nil, &explain.LayerUsed{From: "unknown", Note: fmt.Sprintf("the layer last applied cannot be read (%v), so whether a run-time layer applies cannot be told: the configuration file alone was used; give --admin URL of the running gateway, or --file-only", err)}
	}
	layer, prov, err := c.Layer()
	if err != nil {
		return nil, nil, &explain.LayerUsed{From: "unknown", Note: fmt.Sprintf("%s: %v; the configuration file alone was used", filepath.Join(dir, state.CacheFile), err)}
	}
	used := &explain.LayerUsed{From: "cache", Revision: c.Record.Revision,
		Note: fmt.Sprintf("the run-time layer of revision %d, as the gateway last applied it (%s, saved at %s); --admin URL asks the running gateway, --file-only ignores the layer", c.Record.Revision, filepath.Join(dir, state.CacheFile), c.Saved.UTC().Format(time.RFC3339))}
	if layer.Empty() {
		used.From = "none"
		used.Note = fmt.Sprintf("the gateway applies no run-time layer (revision %d is empty, %s): the configuration file alone", c.Record.Revision, filepath.Join(dir, state.CacheFile))
	}
	return layer, prov, used
}

// shown is a path as a message shows it: relative to the working
// directory when it lies below it.
func shown(path string) string {
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	if rel, err := filepath.Rel(wd, path); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
		return rel
	}
	return path
}

// hasStore reports whether dir holds an embedded store.
func hasStore(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, store.EmbeddedFile))
	return err == nil
}

// layerFromAdmin reads the run-time layer of the running gateway whose
// admin API is at url.
func layerFromAdmin(url string) (*policy.Layer, state.Provenance, *explain.LayerUsed) {
	unknown := func(err error) (*policy.Layer, state.Provenance, *explain.LayerUsed) {
		return nil, nil, &explain.LayerUsed{From: "unknown", Note: fmt.Sprintf("the run-time layer of the gateway at --admin cannot be read (%v): the configuration file alone was used", err)}
	}
	api, err := client.New(url, 10*time.Second)
	if err != nil {
		return unknown(err)
	}
	a, err := api.Do(context.Background(), "GET", "/v1/cors/config", "", nil)
	if err != nil {
		return unknown(err)
	}
	if e := a.Error(); e != nil {
		return unknown(e)
	}
	var cfg struct {
		Revision   uint64
		Layer      *policy.Layer
		Provenance state.Provenance
	}
	if err := json.Unmarshal(a.Body, &cfg); err != nil {
		return unknown(err)
	}
	if cfg.Layer == nil {
		cfg.Layer = &policy.Layer{}
	}
	return cfg.Layer, cfg.Provenance, &explain.LayerUsed{From: "admin", Revision: cfg.Revision,
		Note: fmt.Sprintf("the run-time layer of revision %d, from the running gateway at %s", cfg.Revision, api.Base())}
}
