package plugin

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sync"

	luraconfig "github.com/luraproject/lura/v2/config"
	"github.com/luraproject/lura/v2/proxy"
	ginrouter "github.com/luraproject/lura/v2/router/gin"
	"github.com/luraproject/lura/v2/transport/http/client"
)

// KrakenDAliases maps KrakenD CE's short extra_config namespaces to lura's
// own, for the lura components a plain lura gateway runs, so that KrakenD
// configurations work unchanged. (The router alias is handled apart, see
// PrepareConfig.)
var KrakenDAliases = map[string]string{
	"proxy":        proxy.Namespace,
	"backend/http": client.Namespace,
}

// PrepareConfig applies KrakenD's namespace aliases to a parsed
// configuration: extra_config.router reaches lura's gin router (so that
// auto_options and the other router settings apply; a block already under
// lura's key wins), and the proxy and backend/http aliases are registered
// with lura and applied. Call it before the router is built.
func PrepareConfig(cfg *luraconfig.ServiceConfig) {
	registerAliases.Do(func() {
		for alias, key := range KrakenDAliases {
			luraconfig.ExtraConfigAlias[alias] = key
		}
	})
	cfg.Normalize()
	if cfg.ExtraConfig == nil {
		return
	}
	if v, ok := cfg.ExtraConfig[RouterNamespace].(map[string]any); ok {
		if _, exists := cfg.ExtraConfig[ginrouter.Namespace]; !exists {
			cfg.ExtraConfig[ginrouter.Namespace] = v
		}
	}
}

var registerAliases sync.Once

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// sameMap reports whether a and b are the same map (not merely equal), as
// PrepareConfig's copy of the router block is.
func sameMap(a, b any) bool {
	ma, okA := a.(map[string]any)
	mb, okB := b.(map[string]any)
	return okA && okB && reflect.ValueOf(ma).UnsafePointer() == reflect.ValueOf(mb).UnsafePointer()
}
