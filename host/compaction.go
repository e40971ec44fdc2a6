package host

import (
	"context"
	"fmt"
	"time"

	"github.com/luraproject/lura/v2/logging"

	"github.com/corsgate/corsgate/admin"
	"github.com/corsgate/corsgate/store"
)

// CompactionWarning asks the etcd store of the admin block, when there is
// one, whether anything compacts etcd's history (store.Etcd.
// CompactionWarning), waiting at most timeout. It returns the warning, or
// a note saying why it could not tell; both are "" without an etcd store,
// or when etcd compacts.
func (g *Gateway) CompactionWarning(timeout time.Duration) (warning, note string) {
	if g.admin == nil || g.admin.Store.Type != admin.StoreEtcd {
		return "", ""
	}
	st, err := g.admin.OpenStore()
	if err != nil {
		return "", fmt.Sprintf("the etcd store cannot be opened, so whether anything compacts etcd's history cannot be told: %v", err)
	}
	defer st.Close()
	e, ok := st.(*store.Etcd)
	if !ok {
		return "", ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	w, err := e.CompactionWarning(ctx)
	if err != nil {
		return "", fmt.Sprintf("whether anything compacts etcd's history cannot be told: %v", err)
	}
	return w, ""
}

// warnCompaction logs, once etcd answers, whether anything compacts its
// history: a gateway's first look at its etcd.
func warnCompaction(ctx context.Context, e *store.Etcd, logger logging.Logger) {
	for {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		w, err := e.CompactionWarning(cctx)
		cancel()
		if err == nil {
			if w != "" {
				logger.Warning("[CORSGATE]", w)
			}
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(30 * time.Second):
		}
	}
}
