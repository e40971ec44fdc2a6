package store

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/status"
)

// The defaults of EtcdOptions.
const (
	defaultDialTimeout   = 2 * time.Second
	defaultLeaseTTL      = 5 * time.Second
	defaultPollInterval  = time.Second
	defaultCheckInterval = 30 * time.Second
)

// The keys under the prefix.
const (
	etcdCurrent = "current"  // the current record
	etcdHistory = "history/" // then the revision in 20 digits: each kept record
	etcdMembers = "members/" // then a member's ID: the member, under its lease
)

// Etcd is the shared store: the run-time layer kept in etcd, under a key
// prefix, so that every gateway replica opened on the same etcd cluster
// with the same prefix shares it, sees the others' changes as they happen
// (Watch), and is listed among the live members (Announce, Members).
//
// Under the prefix P, P+"current" holds the current record as JSON,
// P+"history/" followed by the revision in 20 digits holds each kept
// record (the last EtcdOptions.Keep revisions), and P+"members/" followed
// by a gateway's ID holds that gateway as a Member, under a lease that
// expires when the gateway stops renewing it.
//
// A commit is one etcd transaction that writes the current record and its
// history record only if etcd's own revision of P+"current" is still the
// one read with the current record, so that concurrent commits from any
// number of replicas never overwrite one another.
//
// Opening an Etcd store does not wait for etcd: a gateway started while
// etcd is down starts, and every call says that etcd did not answer until
// it does. Every call waits at most EtcdOptions.RequestTimeout for etcd.
type Etcd struct {
	opts   EtcdOptions // with the defaults applied
	where  string      // the endpoints, for messages
	cfg    clientv3.Config
	keep   uint64
	ttl    int64 // the lease's TTL in whole seconds
	closed atomic.Bool
	done   chan struct{} // closed by Close

	cli  atomic.Pointer[clientv3.Client]
	dial chan struct{} // held while creating the client

	annMu sync.Mutex
	ann   *announcer
	bg    sync.WaitGroup // the announcers' goroutines
}

var _ Shared = (*Etcd)(nil)

// EtcdOptions says where the etcd store is and tunes it. Endpoints and
// Prefix are required; the zero value of every other field gives its
// default.
type EtcdOptions struct {
	// Endpoints are the client URLs of the etcd cluster's members, each
	// http://host:port or https://host:port.
	Endpoints []string
	// Prefix is the key prefix under which the store keeps everything, for
	// example "/corsgate/prod/": it starts and ends with "/". Gateways that
	// share a prefix share the run-time layer.
	Prefix string
	// DialTimeout bounds a connection attempt to etcd; 2s when zero or
	// negative.
	DialTimeout time.Duration
	// RequestTimeout is how long each call waits for etcd before saying it
	// did not answer; DialTimeout when zero or negative.
	RequestTimeout time.Duration
	// Username and Password authenticate to etcd when etcd's
	// authentication is on; give both or neither.
	Username, Password string
	// TLS configures the connection to https:// endpoints; nil uses the
	// system's roots with TLS 1.2 or later. It must be nil with http://
	// endpoints.
	TLS *tls.Config
	// Keep is how many history records are kept (oldest dropped first, at
	// each commit); 200 when zero or negative.
	Keep int
	// LeaseTTL is how long a member stays listed after its gateway stops
	// renewing it; 5s when zero or negative. etcd counts leases in whole
	// seconds: it is rounded up, and is at least 1s.
	LeaseTTL time.Duration
	// CheckInterval is how often Watch checks, by reading the current
	// key's revision only, that its etcd watch missed no change; 30s when
	// zero or negative. Each check waits a random fifth more or less.
	CheckInterval time.Duration
	// PollInterval is how often, while etcd does not answer, Watch tries
	// it again, and how often a lost lease is retried; 1s when zero or
	// negative.
	PollInterval time.Duration
}

// OpenEtcd checks the options and sets up a client for the etcd store.
// It does not wait for etcd to answer: it succeeds while etcd is down, and
// the calls fail, saying so, until etcd is back. (With a Username, the
// client is created, and authenticates, at the first call.)
func OpenEtcd(opts EtcdOptions) (*Etcd, error) {
	endpoints, secure, err := checkEndpoints(opts.Endpoints)
	if err != nil {
		return nil, err
	}
	if err := checkPrefix(opts.Prefix); err != nil {
		return nil, err
	}
	switch {
	case opts.Username != "" && opts.Password == "":
		return nil, fmt.Errorf("the etcd user name %q was given without a password: give its password too, or neither", opts.Username)
	case opts.Username == "" && opts.Password != "":
		return nil, errors.New("an etcd password was given without a user name: give the user name too, or neither")
	case opts.TLS != nil && !secure:
		return nil, fmt.Errorf("TLS settings were given for the etcd endpoints %s, which are http://: write them as https:// to use TLS, or give no TLS settings", strings.Join(endpoints, ", "))
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = defaultDialTimeout
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = opts.DialTimeout
	}
	if opts.Keep <= 0 {
		opts.Keep = defaultKeep
	}
	if opts.LeaseTTL <= 0 {
		opts.LeaseTTL = defaultLeaseTTL
	}
	ttl := int64((opts.LeaseTTL + time.Second - 1) / time.Second)
	if ttl < 1 {
		ttl = 1
	}
	opts.LeaseTTL = time.Duration(ttl) * time.Second
	if opts.PollInterval <= 0 {
		opts.PollInterval = defaultPollInterval
	}
	if opts.CheckInterval <= 0 {
		opts.CheckInterval = defaultCheckInterval
	}
	opts.Endpoints = endpoints
	tlsConfig := opts.TLS
	if secure && tlsConfig == nil {
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	e := &Etcd{
		opts:  opts,
		where: strings.Join(endpoints, ", "),
		keep:  uint64(opts.Keep),
		ttl:   ttl,
		done:  make(chan struct{}),
		dial:  make(chan struct{}, 1),
		cfg: clientv3.Config{
			Endpoints:            endpoints,
			DialTimeout:          opts.DialTimeout,
			DialKeepAliveTime:    2 * time.Second,
			DialKeepAliveTimeout: 2 * time.Second,
			Username:             opts.Username,
			Password:             opts.Password,
			TLS:                  tlsConfig,
			Logger:               zap.NewNop(),
			DialOptions: []grpc.DialOption{
				// Reconnect soon after etcd is back, rather than after
				// gRPC's default backoff, which grows to two minutes.
				grpc.WithConnectParams(grpc.ConnectParams{
					Backoff: backoff.Config{
						BaseDelay:  100 * time.Millisecond,
						Multiplier: 1.6,
						Jitter:     0.2,
						// Under a second, so that every gateway is back
						// within a second of etcd.
						MaxDelay: 500 * time.Millisecond,
					},
					MinConnectTimeout: opts.DialTimeout,
				}),
			},
		},
	}
	if opts.Username == "" {
		// Without authentication, creating the client sends nothing to
		// etcd: it cannot wait for it.
		c, err := clientv3.New(e.cfg)
		if err != nil {
			return nil, fmt.Errorf("cannot set up a client for etcd at %s: %v", e.where, err)
		}
		e.cli.Store(c)
	}
	return e, nil
}

// checkEndpoints checks the endpoints and returns them as scheme://host:port,
// and whether they use https.
func checkEndpoints(eps []string) ([]string, bool, error) {
	if len(eps) == 0 {
		return nil, false, errors.New("the etcd store needs the client URL of at least one etcd member, and none was given: give one, for example http://127.0.0.1:2379")
	}
	var out []string
	schemes := map[string]bool{}
	for _, ep := range eps {
		u, err := url.Parse(strings.TrimSpace(ep))
		var what string
		switch {
		case err != nil:
			what = fmt.Sprintf("it is not a URL (%v)", err)
		case u.Scheme != "http" && u.Scheme != "https":
			what = "it does not start with http:// or https://"
		case u.Opaque != "" || u.Host == "":
			what = "it names no host"
		case u.User != nil:
			what = "it holds a user name (give it as the user name option instead)"
		case u.Hostname() == "":
			what = "it names no host"
		case u.Port() == "":
			what = "it names no port"
		case u.Path != "" && u.Path != "/", u.RawQuery != "", u.Fragment != "", u.ForceQuery:
			what = "it has something after the port"
		}
		if what == "" {
			if p, err := strconv.Atoi(u.Port()); err != nil || p < 1 || p > 65535 {
				what = "its port is not a number from 1 to 65535"
			}
		}
		if what != "" {
			return nil, false, fmt.Errorf("the etcd endpoint %q cannot be used: %s; write it as http://host:port or https://host:port, for example http://127.0.0.1:2379", ep, what)
		}
		schemes[u.Scheme] = true
		out = append(out, u.Scheme+"://"+u.Host)
	}
	if len(schemes) > 1 {
		return nil, false, fmt.Errorf("the etcd endpoints %s mix http:// and https://: use one scheme for all of them", strings.Join(out, ", "))
	}
	return out, schemes["https"], nil
}

// checkPrefix checks the key prefix.
func checkPrefix(p string) error {
	if len(p) < 2 || !strings.HasPrefix(p, "/") || !strings.HasSuffix(p, "/") {
		return fmt.Errorf("the etcd key prefix %q cannot be used: it must start and end with \"/\" and have a name between them, for example \"/corsgate/\"", p)
	}
	return nil
}

// Current implements Store. It returns an error, naming the key, when the
// value at the current key is not a corsgate record.
func (e *Etcd) Current(ctx context.Context) (Record, error) {
	cur, err := e.readCurrent(ctx)
	if err != nil {
		return Record{}, err
	}
	if cur.bad != nil {
		return Record{}, cur.bad
	}
	return cur.rec, nil
}

// Commit implements Store, as one etcd transaction conditional on etcd's
// revision of the current key.
//
// When the current key holds a value that is not a corsgate record
// (another tool wrote it), Commit replaces it if ifRevision is the newest
// revision in the history (0 when the history is empty), so that a good
// record can be written over a bad one; the history goes on from there.
//
// When the current key is absent (nothing was ever written, or someone
// deleted it to start over), ifRevision must be 0, and the commit drops
// whatever history is left under the prefix, in the same transaction, so
// that the new revision 1 does not mix with the records of an earlier
// revision 1 and its successors.
func (e *Etcd) Commit(ctx context.Context, ifRevision uint64, rec Record) (Record, error) {
	if err := e.usable(ctx); err != nil {
		return Record{}, err
	}
	rec, err := prepareRecord(rec)
	if err != nil {
		return Record{}, err
	}
	rctx, cancel, c, err := e.begin(ctx)
	if err != nil {
		return Record{}, err
	}
	defer cancel()
	cur, err := e.getCurrent(ctx, rctx, c)
	if err != nil {
		return Record{}, err
	}
	var (
		ours uint64
		cond clientv3.Cmp
	)
	switch {
	case !cur.exists:
		cond = clientv3.Compare(clientv3.CreateRevision(e.key(etcdCurrent)), "=", 0)
	case cur.bad == nil:
		ours = cur.rec.Revision
		cond = clientv3.Compare(clientv3.ModRevision(e.key(etcdCurrent)), "=", cur.mod)
	default:
		if ours, err = e.newestInHistory(rctx, c); err != nil {
			return Record{}, e.failed(ctx, rctx, err)
		}
		cond = clientv3.Compare(clientv3.ModRevision(e.key(etcdCurrent)), "=", cur.mod)
		if ours != ifRevision {
			return Record{}, fmt.Errorf("%w: the change was made to revision %d, but the current value is not a corsgate record (%v), and the newest revision in the history is %d: commit against revision %d to replace the value", ErrConflict, ifRevision, cur.bad, ours, ours)
		}
	}
	if ours != ifRevision {
		return Record{}, conflictError(ifRevision, ours)
	}
	if ours == ^uint64(0) {
		return Record{}, fmt.Errorf("%w under %s, %d: delete everything under the prefix to start again from revision 1", ErrFull, e.opts.Prefix, ours)
	}
	rec.Revision = ours + 1
	data, err := json.Marshal(rec)
	if err != nil {
		return Record{}, fmt.Errorf("the record cannot be stored: %v", err)
	}
	histKey := e.historyKey(rec.Revision)
	ops := []clientv3.Op{
		clientv3.OpPut(e.key(etcdCurrent), string(data)),
		clientv3.OpPut(histKey, string(data)),
	}
	switch {
	case !cur.exists:
		// A fresh start: drop every other history key (etcd refuses a
		// transaction whose deletion covers a key it also writes).
		ops = append(ops,
			clientv3.OpDelete(e.key(etcdHistory), clientv3.WithRange(histKey)),
			clientv3.OpDelete(histKey+"\x00", clientv3.WithRange(clientv3.GetPrefixRangeEnd(e.key(etcdHistory)))))
	case rec.Revision > e.keep:
		ops = append(ops, clientv3.OpDelete(e.key(etcdHistory), clientv3.WithRange(e.historyKey(rec.Revision-e.keep+1))))
	}
	tresp, err := c.Txn(rctx).If(cond).Then(ops...).Else(clientv3.OpGet(e.key(etcdCurrent))).Commit()
	if err != nil {
		return Record{}, e.failed(ctx, rctx, err)
	}
	if !tresp.Succeeded {
		// Someone committed between the read and the transaction.
		if len(tresp.Responses) == 1 {
			if rr := tresp.Responses[0].GetResponseRange(); rr != nil {
				if now := e.currentOf(tresp.Header.Revision, rr.Kvs); now.bad == nil {
					return Record{}, conflictError(ifRevision, now.rec.Revision)
				}
			}
		}
		return Record{}, fmt.Errorf("%w: the change was made to revision %d, but another change was committed meanwhile; read the current revision, apply the change to it again, and commit against it", ErrConflict, ifRevision)
	}
	// Return what Get will return: the record as stored.
	var stored Record
	if err := json.Unmarshal(data, &stored); err != nil {
		return Record{}, fmt.Errorf("revision %d was stored at %s, but does not decode (%v)", rec.Revision, histKey, err)
	}
	return stored, nil
}

// conflictError is Commit's error when the current revision is not the
// caller's.
func conflictError(ifRevision, cur uint64) error {
	return fmt.Errorf("%w: the change was made to revision %d, but the current revision is %d (changed by someone else meanwhile); read the current revision, apply the change to it again, and commit against revision %d", ErrConflict, ifRevision, cur, cur)
}

// newestInHistory returns the newest revision in the history, 0 when
// there is none.
func (e *Etcd) newestInHistory(ctx context.Context, c *clientv3.Client) (uint64, error) {
	resp, err := c.Get(ctx, e.key(etcdHistory), clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		return 0, err
	}
	var newest uint64
	for _, kv := range resp.Kvs {
		if rev, ok := e.revisionOf(kv.Key); ok && rev > newest {
			newest = rev
		}
	}
	return newest, nil
}

// Get implements Store.
func (e *Etcd) Get(ctx context.Context, revision uint64) (Record, error) {
	if err := e.usable(ctx); err != nil {
		return Record{}, err
	}
	if revision == 0 {
		return Record{}, revisionZero
	}
	rctx, cancel, c, err := e.begin(ctx)
	if err != nil {
		return Record{}, err
	}
	defer cancel()
	// One transaction, to read the record, the current revision and the
	// oldest kept one at the same etcd revision.
	resp, err := c.Txn(rctx).Then(
		clientv3.OpGet(e.historyKey(revision)),
		clientv3.OpGet(e.key(etcdCurrent)),
		clientv3.OpGet(e.key(etcdHistory), clientv3.WithPrefix(), clientv3.WithKeysOnly(), clientv3.WithLimit(1)),
	).Commit()
	if err != nil {
		return Record{}, e.failed(ctx, rctx, err)
	}
	if len(resp.Responses) != 3 {
		return Record{}, fmt.Errorf("etcd at %s answered a read of revision %d with %d results instead of 3", e.where, revision, len(resp.Responses))
	}
	ranges := make([]*clientv3.GetResponse, 3)
	for i, r := range resp.Responses {
		ranges[i] = (*clientv3.GetResponse)(r.GetResponseRange())
		if ranges[i] == nil {
			return Record{}, fmt.Errorf("etcd at %s answered a read of revision %d with something else than values", e.where, revision)
		}
	}
	if kvs := ranges[0].Kvs; len(kvs) > 0 {
		return e.decode(kvs[0], revision)
	}
	cur := e.currentOf(resp.Header.Revision, ranges[1].Kvs)
	if cur.bad != nil {
		return Record{}, notFound("revision %d is not in the history under %s", revision, e.key(etcdHistory))
	}
	if revision > cur.rec.Revision {
		return Record{}, neverWritten(revision, cur.rec.Revision)
	}
	var oldest uint64
	if kvs := ranges[2].Kvs; len(kvs) > 0 {
		oldest, _ = e.revisionOf(kvs[0].Key)
	}
	if oldest == 0 || oldest <= revision {
		return Record{}, notFound("revision %d is missing from the history under %s: it was deleted from etcd", revision, e.key(etcdHistory))
	}
	return Record{}, notFound("revision %d was dropped from the history, which keeps the last %d revisions, now %d to %d", revision, e.keep, oldest, cur.rec.Revision)
}

// History implements Store.
func (e *Etcd) History(ctx context.Context, limit int) ([]Record, error) {
	if err := e.usable(ctx); err != nil {
		return nil, err
	}
	rctx, cancel, c, err := e.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	opts := []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend)}
	if limit > 0 {
		opts = append(opts, clientv3.WithLimit(int64(limit)))
	}
	resp, err := c.Get(rctx, e.key(etcdHistory), opts...)
	if err != nil {
		return nil, e.failed(ctx, rctx, err)
	}
	recs := make([]Record, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		rev, ok := e.revisionOf(kv.Key)
		if !ok {
			return nil, fmt.Errorf("the key %s (etcd revision %d) is in the history, but is not a revision's: write under %s only through corsgate's admin API, or delete it", kv.Key, kv.ModRevision, e.key(etcdHistory))
		}
		rec, err := e.decode(kv, rev)
		if err != nil {
			return nil, err
		}
		recs = append(recs, rec)
	}
	return recs, nil
}

// Close implements Store. It withdraws the announced member, closes the
// connection to etcd, and makes every call under way or to come return an
// error. A second Close does nothing.
func (e *Etcd) Close() error {
	if !e.closed.CompareAndSwap(false, true) {
		return nil
	}
	close(e.done)
	// No announcer starts after this (see announcer), and the running one
	// withdraws its member before it ends.
	e.annMu.Lock()
	a := e.ann
	e.annMu.Unlock()
	if a != nil {
		<-a.ended
	}
	e.bg.Wait()
	e.dial <- struct{}{} // a client being created is stored before this
	if c := e.cli.Load(); c != nil {
		if err := c.Close(); err != nil && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("closing the client of etcd at %s: %v", e.where, err)
		}
	}
	return nil
}

// Watch implements Shared. It reads the current record, then follows the
// current key with an etcd watch from there on. Following costs etcd
// almost nothing while nothing changes:
//
//   - every CheckInterval (with a random fifth more or less, so that a
//     fleet's checks do not come at once), a read of the current key's
//     revision only, not its value, confirms that the watch missed no
//     change, or the value is read and given;
//   - whether etcd answers is learnt from the client's connection: when it
//     fails, onHealth gets the error at once; when it is ready again, a
//     revision read confirms it and onHealth gets nil at once, without
//     waiting for a timer (while etcd does not answer, that read is also
//     tried every PollInterval).
//
// A change is given when etcd's revision of the current key differs from
// the last one given, or when etcd's own revision went backwards (a
// restore from a backup). A deleted current key is given as the zero
// Record (Revision 0, nil Layer): the run-time layer was removed.
// onChange and onHealth are called from the goroutine that called Watch,
// never at once, and may be nil. Watch returns ctx's error when ctx is
// done, and an error when the store is closed.
func (e *Etcd) Watch(ctx context.Context, after uint64, onChange func(Record, error), onHealth func(error)) error {
	if err := e.usable(ctx); err != nil {
		return err
	}
	if onChange == nil {
		onChange = func(Record, error) {}
	}
	if onHealth == nil {
		onHealth = func(error) {}
	}
	w := &watcher{e: e, after: after, onChange: onChange, onHealth: onHealth}
	return w.run(ctx)
}

// watcher is the state of one Watch.
type watcher struct {
	e        *Etcd
	after    uint64
	onChange func(Record, error)
	onHealth func(error)

	health  int   // 0 unknown, 1 reachable, -1 unreachable: as last told onHealth
	started bool  // the first read was made
	mod     int64 // etcd's revision of the current value last given; 0: absent
	at      int64 // the etcd revision up to which the current key's changes are known

	wch       clientv3.WatchChan      // nil when not watching
	pending   chan clientv3.WatchChan // the watch being set up; nil when none
	wcancel   context.CancelFunc
	watchedAt time.Time
	conn      <-chan connectivity.State // the client connection's states; nil until connected
}

func (w *watcher) run(ctx context.Context) error {
	defer w.stopWatch()
	retry := time.NewTicker(w.e.opts.PollInterval)
	defer retry.Stop()
	for !w.started {
		if _, err := w.read(ctx); err != nil {
			return err
		}
		if w.started {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-w.e.done:
			return w.e.closedError()
		case <-retry.C:
		}
	}
	w.startWatch(ctx)
	w.conn = w.e.connectionStates(ctx)
	check := time.NewTimer(jittered(w.e.opts.CheckInterval))
	defer check.Stop()
	// soon retries a check that failed while the connection is ready:
	// etcd accepts connections before it serves (it replays its log and
	// elects a leader first), and the gateway should not wait a whole
	// PollInterval once it does.
	soon := time.NewTimer(time.Hour)
	soon.Stop()
	defer soon.Stop()
	ready := false
	for {
		var err error
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-w.e.done:
			return w.e.closedError()
		case st := <-w.conn:
			ready = st == connectivity.Ready
			switch st {
			case connectivity.TransientFailure:
				w.unreachable(fmt.Errorf("etcd at %s is unavailable (the connection to it failed): check that it runs and that the endpoints are right", w.e.where))
			case connectivity.Ready:
				if w.health <= 0 {
					err = w.check(ctx)
				}
			}
		case <-soon.C:
			if w.health < 0 {
				err = w.check(ctx)
			}
		case <-retry.C:
			if w.health < 0 {
				err = w.check(ctx)
			}
		case <-check.C:
			err = w.check(ctx)
			check.Reset(jittered(w.e.opts.CheckInterval))
		case wch := <-w.pending:
			w.wch, w.pending = wch, nil
		case resp, ok := <-w.wch:
			if ok && !resp.Canceled && resp.CompactRevision == 0 && resp.Err() == nil {
				w.events(resp.Events)
				continue
			}
			// The watch ended: it was cancelled (etcd lost its leader, for
			// one), or the revisions it was to resume from were compacted.
			// Catch up by reading, and watch again from there (at the next
			// retry if this watch was short lived, so as not to spin on a
			// watch that etcd refuses).
			w.stopWatch()
			if _, err = w.read(ctx); err == nil && w.health > 0 && time.Since(w.watchedAt) >= w.e.opts.PollInterval {
				w.startWatch(ctx)
			}
		}
		if err != nil {
			return err
		}
		if w.health < 0 && ready {
			soon.Reset(jittered(fastRetry))
		}
		if w.wch == nil && w.pending == nil && w.health > 0 && time.Since(w.watchedAt) >= w.e.opts.PollInterval {
			w.startWatch(ctx)
		}
	}
}

// fastRetry is how soon a Watch tries etcd again when the connection is
// ready but etcd did not answer yet.
const fastRetry = 100 * time.Millisecond

// jittered returns d with a random fifth more or less.
func jittered(d time.Duration) time.Duration {
	return d + time.Duration((rand.Float64()-0.5)*0.4*float64(d))
}

// unreachable tells onHealth, once, that etcd does not answer.
func (w *watcher) unreachable(err error) {
	if w.health >= 0 {
		w.health = -1
		w.onHealth(err)
	}
}

// reachable tells onHealth, once, that etcd answers.
func (w *watcher) reachable() {
	if w.health <= 0 {
		w.health = 1
		w.onHealth(nil)
	}
}

// check reads the current key's revisions only (its value stays in
// etcd): when it changed since the last value given, or etcd's revision
// went backwards, it reads the value and gives it. It returns an error
// only when Watch must return it.
func (w *watcher) check(ctx context.Context) error {
	rctx, cancel, c, err := w.e.begin(ctx)
	if err != nil {
		return w.failedRead(ctx, err)
	}
	resp, err := c.Get(rctx, w.e.key(etcdCurrent), clientv3.WithKeysOnly())
	cancel()
	if err != nil {
		return w.failedRead(ctx, w.e.failed(ctx, rctx, err))
	}
	w.reachable()
	var mod int64
	if len(resp.Kvs) > 0 {
		mod = resp.Kvs[0].ModRevision
	}
	if resp.Header.Revision >= w.at && mod == w.mod {
		return nil // nothing missed
	}
	backwards, err := w.read(ctx)
	if err == nil && backwards {
		w.stopWatch()
		w.startWatch(ctx)
	}
	return err
}

// failedRead judges the error of a read: Watch's end when ctx is done or
// the store closed, else etcd not answering.
func (w *watcher) failedRead(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if w.e.closed.Load() {
		return w.e.closedError()
	}
	w.unreachable(err)
	return nil
}

// read reads the current record, gives it when it differs from the last
// one given, and tells onHealth when etcd's reachability changed. It
// reports whether etcd's revision went backwards, and returns an error
// only when Watch must return it.
func (w *watcher) read(ctx context.Context) (backwards bool, err error) {
	cur, err := w.e.readCurrent(ctx)
	if err != nil {
		return false, w.failedRead(ctx, err)
	}
	w.reachable()
	switch {
	case !w.started:
		w.started = true
		if cur.bad != nil || cur.rec.Revision != w.after {
			w.give(cur)
		}
	case cur.header < w.at:
		backwards = true
		w.give(cur)
	case cur.mod != w.mod:
		w.give(cur)
	}
	w.mod, w.at = cur.mod, cur.header
	return backwards, nil
}

// events gives the changes of a watch response.
func (w *watcher) events(evs []*clientv3.Event) {
	for _, ev := range evs {
		if ev.Kv == nil || ev.Kv.ModRevision <= w.at {
			continue // already known from a read
		}
		w.at = ev.Kv.ModRevision
		switch ev.Type {
		case mvccpb.DELETE:
			if w.mod != 0 {
				w.mod = 0
				w.give(etcdValue{})
			}
		default:
			if ev.Kv.ModRevision != w.mod {
				w.mod = ev.Kv.ModRevision
				w.give(w.e.currentOf(ev.Kv.ModRevision, []*mvccpb.KeyValue{ev.Kv}))
			}
		}
	}
	// The watch works, so etcd answers: say so at once (the connection's
	// state may have told of its failure without its recovery).
	w.reachable()
}

func (w *watcher) give(cur etcdValue) {
	if cur.bad != nil {
		w.onChange(Record{}, cur.bad)
		return
	}
	w.onChange(cur.rec, nil)
}

// startWatch watches the current key from the etcd revision after w.at.
// The client's Watch waits until etcd accepts the watch, so it runs in a
// goroutine of its own, which hands the watch over (w.pending) and ends
// then, or when the watch is stopped.
func (w *watcher) startWatch(ctx context.Context) {
	c := w.e.cli.Load()
	if c == nil {
		return // not connected yet: the next retry tries again
	}
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	pending := make(chan clientv3.WatchChan, 1)
	key, rev := w.e.key(etcdCurrent), w.at+1
	go func() { pending <- c.Watch(wctx, key, clientv3.WithRev(rev)) }()
	w.pending, w.wcancel = pending, cancel
	w.watchedAt = time.Now()
}

func (w *watcher) stopWatch() {
	if w.wcancel != nil {
		w.wcancel()
	}
	w.wch, w.pending, w.wcancel = nil, nil, nil
}

// connectionStates follows the state of the client's connection to etcd
// until ctx is done, and sends each new one on the channel it returns
// (the latest replaces one not yet received). It is how a Watch learns at
// once that etcd stopped or started answering, without asking it.
func (e *Etcd) connectionStates(ctx context.Context) <-chan connectivity.State {
	out := make(chan connectivity.State, 1)
	c := e.cli.Load()
	if c == nil || c.ActiveConnection() == nil {
		return out
	}
	conn := c.ActiveConnection()
	go func() {
		st := conn.GetState()
		for conn.WaitForStateChange(ctx, st) {
			st = conn.GetState()
			select {
			case <-out:
			default:
			}
			out <- st
		}
	}()
	return out
}

// Announce implements Shared. The first call starts the renewal, bound to
// its ctx: a goroutine that keeps a lease of EtcdOptions.LeaseTTL alive,
// with the member's key attached, and when the lease is lost (etcd was
// down for longer than the TTL) grants a new one and publishes the latest
// member again, every PollInterval until it works. When that ctx is done,
// or the store is closed, the lease is revoked, so that the member
// disappears at once. A call after the renewal ended starts a new one.
//
// Each call sets m.Updated to now and publishes m at once; it returns an
// error when that fails, and the renewal publishes the latest member when
// etcd is back. The member's ID cannot change while the renewal runs.
func (e *Etcd) Announce(ctx context.Context, m Member) error {
	if err := e.usable(ctx); err != nil {
		return err
	}
	if m.ID == "" {
		return errors.New("the member to announce has no ID: give each gateway an ID unique within the fleet")
	}
	a, err := e.announcer(ctx, m.ID)
	if err != nil {
		return err
	}
	m.Updated = time.Now().UTC()
	a.mu.Lock()
	a.member = m
	a.version++
	a.mu.Unlock()
	err = a.publish(ctx)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errAnnouncementEnded):
		return fmt.Errorf("member %s is not published: %w", m.ID, err)
	case ctx.Err() != nil:
		return err
	}
	return fmt.Errorf("member %s is not published now (%w); it will be published when etcd is reachable", m.ID, err)
}

// errAnnouncementEnded is publish's error after the renewal ended.
var errAnnouncementEnded = errors.New("the announcement ended, with the context of the Announce call that started it: call Announce again to start another")

// announcer returns the running announcer, or starts one bound to ctx.
func (e *Etcd) announcer(ctx context.Context, id string) (*announcer, error) {
	e.annMu.Lock()
	defer e.annMu.Unlock()
	if e.closed.Load() {
		return nil, e.closedError()
	}
	if a := e.ann; a != nil {
		select {
		case <-a.ended:
		default:
			if a.id != id {
				return nil, fmt.Errorf("this gateway is announced as member %s, not %s: a gateway keeps its ID while its announcement runs", a.id, id)
			}
			return a, nil
		}
	}
	kctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a := &announcer{
		e:      e,
		id:     id,
		ctx:    ctx,
		kctx:   kctx,
		cancel: cancel,
		sem:    make(chan struct{}, 1),
		kick:   make(chan struct{}, 1),
		ended:  make(chan struct{}),
	}
	e.ann = a
	e.bg.Add(1)
	go a.run()
	return a, nil
}

// announcer publishes one member under a lease and keeps it alive.
type announcer struct {
	e      *Etcd
	id     string
	ctx    context.Context    // the first Announce's: the renewal ends with it
	kctx   context.Context    // the keep-alives'
	cancel context.CancelFunc // cancels kctx
	sem    chan struct{}      // held while publishing
	kick   chan struct{}      // a new lease, or a lost one
	ended  chan struct{}      // closed when the renewal ended

	mu        sync.Mutex
	member    Member
	version   uint64           // of member: one more at each Announce
	published uint64           // the version last put under the lease
	lease     clientv3.LeaseID // 0 when none
	ka        <-chan *clientv3.LeaseKeepAliveResponse
}

// run keeps the lease alive until a.ctx is done or the store is closed,
// then revokes it. At each tick it publishes the latest member again when
// it is not published: when the lease was lost (etcd was down for longer
// than its TTL), or when the last Announce could not put it.
func (a *announcer) run() {
	defer a.e.bg.Done()
	defer a.withdraw()
	tick := time.NewTicker(a.e.opts.PollInterval)
	defer tick.Stop()
	for {
		a.mu.Lock()
		lease, ka := a.lease, a.ka
		a.mu.Unlock()
		select {
		case <-a.ctx.Done():
			return
		case <-a.e.done:
			return
		case <-a.kick:
		case _, ok := <-ka: // never ready when ka is nil (no lease)
			if !ok {
				// The lease expired, or was revoked: publish again under a
				// new lease at the next tick.
				a.dropLease(lease)
			}
		case <-tick.C:
			a.mu.Lock()
			stale := a.lease == 0 || a.published != a.version
			a.mu.Unlock()
			if stale {
				// The errors are the callers' of Announce to see.
				_ = a.publish(a.ctx)
			}
		}
	}
}

// publish puts the latest member under the lease, granting one when none
// is held.
func (a *announcer) publish(ctx context.Context) error {
	select {
	case a.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-a.ended:
		return errAnnouncementEnded
	}
	defer func() { <-a.sem }()
	select {
	case <-a.ended:
		return errAnnouncementEnded
	default:
	}
	a.mu.Lock()
	m, version, lease := a.member, a.version, a.lease
	current := lease != 0 && a.published >= version
	a.mu.Unlock()
	if current {
		// Published already, by the publish this one waited for: one Put
		// per change, never two.
		return nil
	}
	data, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("the member cannot be stored: %v", err)
	}
	e := a.e
	rctx, cancel, c, err := e.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	fresh := lease == 0
	if fresh {
		g, err := c.Grant(rctx, e.ttl)
		if err != nil {
			return e.failed(ctx, rctx, err)
		}
		lease = g.ID
	}
	_, err = c.Put(rctx, e.key(etcdMembers+m.ID), string(data), clientv3.WithLease(lease))
	if errors.Is(err, rpctypes.ErrLeaseNotFound) && !fresh {
		// The lease expired, unnoticed yet: publish under a new one.
		a.dropLease(lease)
		fresh = true
		var g *clientv3.LeaseGrantResponse
		if g, err = c.Grant(rctx, e.ttl); err == nil {
			lease = g.ID
			_, err = c.Put(rctx, e.key(etcdMembers+m.ID), string(data), clientv3.WithLease(lease))
		}
	}
	if err != nil {
		return e.failed(ctx, rctx, err)
	}
	var ka <-chan *clientv3.LeaseKeepAliveResponse
	if fresh {
		if ka, err = c.KeepAlive(a.kctx, lease); err != nil {
			return e.failed(ctx, rctx, err)
		}
	}
	a.mu.Lock()
	if fresh {
		a.lease, a.ka = lease, ka
	}
	a.published = max(a.published, version)
	a.mu.Unlock()
	if fresh {
		select {
		case a.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

func (a *announcer) dropLease(lease clientv3.LeaseID) {
	a.mu.Lock()
	if a.lease == lease {
		a.lease, a.ka = 0, nil
	}
	a.mu.Unlock()
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

// withdraw ends the renewal: it stops the keep-alives and revokes the
// lease, best effort, so that the member disappears at once.
func (a *announcer) withdraw() {
	timeout := min(a.e.opts.RequestTimeout, time.Second)
	// Wait for a publish under way, which may be granting a lease, and end
	// before letting another one start: it sees that the renewal ended.
	select {
	case a.sem <- struct{}{}:
		defer func() { <-a.sem }()
	case <-time.After(a.e.opts.RequestTimeout + timeout):
	}
	close(a.ended)
	a.cancel()
	a.mu.Lock()
	lease := a.lease
	a.lease, a.ka = 0, nil
	a.mu.Unlock()
	c := a.e.cli.Load()
	if lease == 0 || c == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	_, _ = c.Revoke(ctx, lease)
}

// Members implements Shared. A member whose value does not decode is
// listed with its key's ID and an Error that says so.
func (e *Etcd) Members(ctx context.Context) ([]Member, error) {
	if err := e.usable(ctx); err != nil {
		return nil, err
	}
	rctx, cancel, c, err := e.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	resp, err := c.Get(rctx, e.key(etcdMembers), clientv3.WithPrefix())
	if err != nil {
		return nil, e.failed(ctx, rctx, err)
	}
	members := make([]Member, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		if m, ok := e.memberOf(kv); ok {
			members = append(members, m)
		}
	}
	sort.SliceStable(members, func(i, j int) bool { return members[i].ID < members[j].ID })
	return members, nil
}

// memberOf decodes a member's key and value. A key without a lease is not
// a live gateway (ok false): a gateway announces itself under a lease,
// which ends when it stops, and a record without one (another tool wrote
// it) would be waited for forever. A value that does not decode is a
// member with its key's ID and an Error that says so.
func (e *Etcd) memberOf(kv *mvccpb.KeyValue) (m Member, ok bool) {
	if kv.Lease == 0 {
		return Member{}, false
	}
	id := strings.TrimPrefix(string(kv.Key), e.key(etcdMembers))
	if err := json.Unmarshal(kv.Value, &m); err != nil {
		m = Member{ID: id, Error: fmt.Sprintf("undecodable: the value at %s (etcd revision %d) is not a member: %v", kv.Key, kv.ModRevision, err)}
	}
	if m.ID == "" {
		m.ID = id
	}
	return m, true
}

// WatchMembers implements Shared: one read of the members, then an etcd
// watch of their keys from there (read again when the watch ends).
func (e *Etcd) WatchMembers(ctx context.Context, fn func([]Member) bool) error {
	prefix := e.key(etcdMembers)
	for {
		rctx, cancel, c, err := e.begin(ctx)
		if err != nil {
			return err
		}
		resp, err := c.Get(rctx, prefix, clientv3.WithPrefix())
		cancel()
		if err != nil {
			return e.failed(ctx, rctx, err)
		}
		live := map[string]Member{}
		for _, kv := range resp.Kvs {
			if m, ok := e.memberOf(kv); ok {
				live[string(kv.Key)] = m
			}
		}
		if fn(sortedMembers(live)) {
			return nil
		}
		wctx, wcancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
		wch := c.Watch(wctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(resp.Header.Revision+1))
		done := false
		for wr := range wch {
			if wr.Canceled || wr.CompactRevision != 0 || wr.Err() != nil {
				break // read again
			}
			for _, ev := range wr.Events {
				if ev.Kv == nil {
					continue
				}
				key := string(ev.Kv.Key)
				if m, ok := e.memberOf(ev.Kv); ok && ev.Type == mvccpb.PUT {
					live[key] = m
				} else {
					delete(live, key)
				}
			}
			if len(wr.Events) > 0 && fn(sortedMembers(live)) {
				done = true
				break
			}
		}
		wcancel()
		switch {
		case done:
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case e.closed.Load():
			return e.closedError()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(jittered(e.opts.PollInterval) / 4):
		}
	}
}

// sortedMembers returns the members of live sorted by ID.
func sortedMembers(live map[string]Member) []Member {
	out := make([]Member, 0, len(live))
	for _, m := range live {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// etcdValue is what a read of the current key found.
type etcdValue struct {
	rec    Record // the record, when it decodes; the zero Record when absent
	bad    error  // why the value is not a record
	exists bool
	mod    int64 // etcd's revision of the value; 0 when absent
	header int64 // etcd's revision when it was read
}

// readCurrent reads the current key.
func (e *Etcd) readCurrent(ctx context.Context) (etcdValue, error) {
	if err := e.usable(ctx); err != nil {
		return etcdValue{}, err
	}
	rctx, cancel, c, err := e.begin(ctx)
	if err != nil {
		return etcdValue{}, err
	}
	defer cancel()
	return e.getCurrent(ctx, rctx, c)
}

// getCurrent reads and decodes the current key within rctx, the deadline
// of the caller's call (Commit reads it, then commits, under one).
func (e *Etcd) getCurrent(ctx, rctx context.Context, c *clientv3.Client) (etcdValue, error) {
	resp, err := c.Get(rctx, e.key(etcdCurrent))
	if err != nil {
		return etcdValue{}, e.failed(ctx, rctx, err)
	}
	return e.currentOf(resp.Header.Revision, resp.Kvs), nil
}

// currentOf decodes what a read of the current key returned.
func (e *Etcd) currentOf(header int64, kvs []*mvccpb.KeyValue) etcdValue {
	v := etcdValue{header: header}
	if len(kvs) == 0 {
		return v
	}
	v.exists, v.mod = true, kvs[0].ModRevision
	v.rec, v.bad = e.decode(kvs[0], 0)
	return v
}

// decode decodes the record at kv; want is the revision its key names (0
// for the current key).
func (e *Etcd) decode(kv *mvccpb.KeyValue, want uint64) (Record, error) {
	var rec Record
	var what string
	if err := json.Unmarshal(kv.Value, &rec); err != nil {
		what = fmt.Sprintf("it does not decode as one (%v) from %s", err, excerpt(kv.Value))
	} else if rec.Revision == 0 {
		what = fmt.Sprintf("it has no revision (%s)", excerpt(kv.Value))
	} else if want != 0 && rec.Revision != want {
		what = fmt.Sprintf("it says it is revision %d", rec.Revision)
	} else if err := checkDecoded(rec); err != nil {
		what = err.Error()
	}
	if what == "" {
		return rec, nil
	}
	return Record{}, badRecord(fmt.Errorf("the value at %s (etcd revision %d) is not a corsgate record: %s; write it only through corsgate's admin API, or delete it to start over", kv.Key, kv.ModRevision, what))
}

// key returns the full key of name.
func (e *Etcd) key(name string) string { return e.opts.Prefix + name }

// historyKey returns the key of a revision's record.
func (e *Etcd) historyKey(rev uint64) string {
	return fmt.Sprintf("%s%s%020d", e.opts.Prefix, etcdHistory, rev)
}

// revisionOf returns the revision a history key names.
func (e *Etcd) revisionOf(key []byte) (uint64, bool) {
	s, ok := strings.CutPrefix(string(key), e.key(etcdHistory))
	if !ok || len(s) != 20 {
		return 0, false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	rev, err := strconv.ParseUint(s, 10, 64)
	return rev, err == nil && rev > 0
}

// usable returns ctx's error when it is done, and an error when the store
// is closed.
func (e *Etcd) usable(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if e.closed.Load() {
		return e.closedError()
	}
	return nil
}

// begin starts a call: it returns a context that ends after
// RequestTimeout, and the client.
func (e *Etcd) begin(ctx context.Context) (context.Context, context.CancelFunc, *clientv3.Client, error) {
	if err := e.usable(ctx); err != nil {
		return nil, nil, nil, err
	}
	rctx, cancel := context.WithTimeout(ctx, e.opts.RequestTimeout)
	c, err := e.client(rctx)
	if err != nil {
		cancel()
		return nil, nil, nil, e.failed(ctx, rctx, err)
	}
	return rctx, cancel, c, nil
}

// client returns the client, creating it on first use when it
// authenticates (creating it sends the user name and password to etcd).
func (e *Etcd) client(ctx context.Context) (*clientv3.Client, error) {
	if c := e.cli.Load(); c != nil {
		return c, nil
	}
	select {
	case e.dial <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-e.done:
		return nil, e.closedError()
	}
	defer func() { <-e.dial }()
	if c := e.cli.Load(); c != nil {
		return c, nil
	}
	if e.closed.Load() {
		return nil, e.closedError()
	}
	cfg := e.cfg
	// The authentication is bounded by DialTimeout: give it what is left
	// of the call's time.
	if d, ok := ctx.Deadline(); ok {
		cfg.DialTimeout = max(time.Until(d), time.Millisecond)
	}
	c, err := clientv3.New(cfg)
	if err != nil {
		return nil, err
	}
	e.cli.Store(c)
	return c, nil
}

// failed turns the error of a call to etcd into one that says what went
// wrong and what to do. ctx is the caller's context, rctx the call's.
func (e *Etcd) failed(ctx, rctx context.Context, err error) error {
	if e.closed.Load() {
		return e.closedError()
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	code := status.Code(err)
	var ee rpctypes.EtcdError
	if errors.As(err, &ee) {
		code = ee.Code()
	}
	cause := err.Error()
	if st, ok := status.FromError(err); ok {
		cause = st.Message()
	}
	switch {
	case refused(err, code, cause):
		return fmt.Errorf("etcd at %s refused the request (%s): check the user name and password, and that the user may read and write the keys under %s", e.where, cause, e.opts.Prefix)
	case rctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || code == codes.DeadlineExceeded:
		if !strings.Contains(cause, context.DeadlineExceeded.Error()) {
			cause = context.DeadlineExceeded.Error() + ": " + cause
		}
		return fmt.Errorf("etcd at %s did not answer within %s (%s): check that it runs and that the endpoints are right", e.where, e.opts.RequestTimeout, cause)
	case code == codes.Unavailable:
		return fmt.Errorf("etcd at %s is unavailable (%s): check that it runs and that the endpoints are right", e.where, cause)
	}
	return fmt.Errorf("etcd at %s failed (%s)", e.where, cause)
}

// authErrors are etcd's refusals of a user name, password or permission.
var authErrors = []error{rpctypes.ErrAuthFailed, rpctypes.ErrUserEmpty, rpctypes.ErrPermissionDenied, rpctypes.ErrInvalidAuthToken, rpctypes.ErrAuthOldRevision}

// refused reports whether err is etcd refusing the credentials or the
// permission. Authenticating when the client is created may come back as
// a timeout that quotes the refusal: its text is checked too.
func refused(err error, code codes.Code, cause string) bool {
	if code == codes.Unauthenticated || code == codes.PermissionDenied {
		return true
	}
	for _, a := range authErrors {
		if errors.Is(err, a) || strings.Contains(cause, a.Error()) {
			return true
		}
	}
	return false
}

func (e *Etcd) closedError() error {
	return fmt.Errorf("the etcd store (%s, prefix %s) is closed: open it again with OpenEtcd to use it", e.where, e.opts.Prefix)
}

// uncompactedRevisions is how many revisions etcd must have made, none of
// them compacted, before CompactionWarning says that nothing compacts it.
var uncompactedRevisions int64 = 10000

// CompactionWarning says, when the client can tell, that nothing compacts
// etcd's history: etcd keeps every revision until it is compacted, and
// corsgate adds about one revision per replica for each change (the
// members' records), so an etcd without compaction grows until it reaches
// its quota and refuses every write. The client can tell when etcd has
// made more than ten thousand revisions and its very first one can still
// be read. It returns "" when etcd compacts, or when it cannot tell yet,
// and an error when etcd does not answer.
func (e *Etcd) CompactionWarning(ctx context.Context) (string, error) {
	rctx, cancel, c, err := e.begin(ctx)
	if err != nil {
		return "", err
	}
	defer cancel()
	resp, err := c.Get(rctx, e.key(etcdCurrent), clientv3.WithRev(1), clientv3.WithCountOnly())
	switch {
	case errors.Is(err, rpctypes.ErrCompacted):
		return "", nil // something compacts it
	case err != nil:
		return "", e.failed(ctx, rctx, err)
	case resp.Header.Revision <= uncompactedRevisions:
		return "", nil // too young to tell
	}
	return fmt.Sprintf("etcd at %s keeps all of its %d revisions: nothing compacts its history, so it grows with every change until it reaches its quota and refuses writes; run etcd with --auto-compaction-mode=periodic --auto-compaction-retention=1h (docs/runtime.md, \"Several replicas\")", e.where, resp.Header.Revision), nil
}
