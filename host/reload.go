package host

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	luraconfig "github.com/luraproject/lura/v2/config"

	"github.com/corsgate/corsgate/plugin"
	"github.com/corsgate/corsgate/state"
	"github.com/corsgate/corsgate/watch"
)

// watchFile reloads the CORS settings of the configuration file when it
// changes and on SIGHUP (only on SIGHUP with Options.NoWatch), until ctx
// is done. A valid change to the CORS blocks applies at once; an invalid
// one applies nothing and is logged (and shown in the admin status); a
// change outside the CORS blocks is logged as needing a restart.
func watchFile(ctx context.Context, g *Gateway, m *state.Manager) {
	logger := g.o.Logger
	err := watch.Watch(ctx, g.o.Path, watch.Options{SIGHUP: true, SignalOnly: g.o.NoWatch, OnError: func(err error) {
		logger.Error("[RELOAD]", err)
	}}, func(reason watch.Reason, _ []byte) {
		g.reload(m, reason)
	})
	if err != nil {
		logger.Error("[RELOAD] the configuration file is not watched:", err)
	}
}

// reload reads the file again and puts its CORS part in force.
func (g *Gateway) reload(m *state.Manager, reason watch.Reason) {
	logger, path := g.o.Logger, g.o.Path
	cfg, doc, err := plugin.ReadCORS(path)
	if err != nil {
		// Never the file's text: the log and the status are read by
		// others than the file's owner, and a line may hold a secret.
		msg := plugin.Redacted(err)
		var fe *plugin.FileError
		if errors.As(err, &fe) {
			logger.Error("[RELOAD]", fmt.Sprintf("(%s) nothing applied:", reason), msg)
		} else {
			logger.Error("[RELOAD]", fmt.Sprintf("(%s) %s: nothing applied:\n%s", reason, path, msg))
		}
		m.ReloadFailed(errors.New(msg))
		return
	}
	restart := restartRequired(g.cfg, cfg)
	for _, r := range restart {
		logger.Warning("[RELOAD]", fmt.Sprintf("(%s) %s changed, which only a restart applies; the CORS settings of the same edit apply now", reason, r))
	}
	if err := m.ReloadFile(doc, restart); err != nil {
		logger.Error("[RELOAD]", fmt.Sprintf("(%s) %s: nothing applied:\n%s", reason, path, state.Detail(err)))
		return
	}
	logger.Info("[RELOAD]", fmt.Sprintf("(%s) %s: CORS settings applied (snapshot %d)", reason, path, g.ctrl.Snapshot().Revision()))
}

// restartRequired lists what changed in the file that a running gateway
// cannot apply: its endpoints and backends, its port and listen address.
func restartRequired(old, cur luraconfig.ServiceConfig) []string {
	var out []string
	if !slices.Equal(routesOf(old), routesOf(cur)) {
		out = append(out, "the endpoints or their backends")
	}
	if old.Port != cur.Port {
		out = append(out, fmt.Sprintf("the port (%d to %d)", old.Port, cur.Port))
	}
	if old.Address != cur.Address {
		out = append(out, "listen_ip")
	}
	return out
}

// routesOf describes the endpoints and backends of a configuration.
func routesOf(cfg luraconfig.ServiceConfig) []string {
	var out []string
	for _, e := range cfg.Endpoints {
		line := strings.ToUpper(e.Method) + " " + e.Endpoint
		for _, b := range e.Backend {
			line += " -> " + strings.Join(b.Host, ",") + b.URLPattern
		}
		out = append(out, line)
	}
	return out
}
