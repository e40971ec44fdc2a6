// Package auth guards corsgate's admin HTTP listener, the API through which
// operators change the gateway's CORS policy while it runs. Whoever passes
// this guard can decide which web sites may read the gateway's answers, so
// it is a security boundary, and it fails closed.
//
// It does three things:
//
//   - Load reads the credentials an operator configured: one HTTP Basic user
//     from CORSGATE_ADMIN_USER and CORSGATE_ADMIN_PASSWORD, a Bearer token
//     from CORSGATE_ADMIN_TOKEN, and the files named by basic_auth_file and
//     token_file in the corsgate/admin block. It refuses, all at once and
//     with the way to fix each, what would weaken them: a user without a
//     password (there is never an empty or default password), a file that
//     group or others may read, a token shorter than 16 bytes.
//   - Credentials.Check authenticates a request. It compares SHA-256 digests
//     with crypto/subtle and always looks at every stored credential of the
//     scheme presented, so that its timing tells nothing about which user,
//     password or token came close.
//   - Guard wraps every admin handler. First it refuses with 403 any request
//     whose Origin header is not the origin the request was addressed to
//     (the admin API answers no cross-origin request, "null" included, and
//     never sends an Access-Control-* header), so that no web page can drive
//     the API with credentials a browser remembers. Then it refuses with 401
//     a request without the right credentials. Both answers are JSON in
//     Cloudant's error shape, {"error": ..., "reason": ...}. Only then does
//     it call the handler, with the user's name in the request context
//     (User).
//
// What the listener needs beyond this (a loopback address or TLS, a refusal
// to start without any credential) is decided by package admin when it reads
// the corsgate/admin block; this package only says whether credentials are
// configured (Credentials.Empty).
package auth
