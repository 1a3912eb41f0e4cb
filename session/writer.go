package session

import (
	"github.com/gowho/gowho/who"
)

// The handler writes through a respwriter.Writer (the Session's wv), whose
// owner saves the session when the response starts: at the first
// WriteHeader (other than 1xx), Write or Flush, at Hijack, or when the
// handler returns without writing. Saving there, not after the handler
// returns, keeps writes made before a redirect. When the session cannot be
// saved, a failure page replaces the handler's response: the handler's
// headers are dropped, the ones set before the manager ran are kept.

// saver is the Session as the writer's respwriter.Owner.
type saver Session

// Start commits the session; it answers with a failure page when the
// session could not be saved.
func (o *saver) Start(int) (answered bool) {
	s := (*Session)(o)
	h := s.wv.Header()
	cookie, err := s.commit(h)
	if err != nil {
		s.wv.RestoreHeader()
		s.m.fail(s.wv.Unwrap(), s.r, err)
		return true
	}
	if cookie {
		// A response that sets (or expires) the session cookie is one
		// user's: a shared cache must neither keep it nor serve it to
		// another user.
		who.PreventSharedCaching(h)
	}
	return false
}

// Hijacked saves the session; its cookie cannot be sent on a hijacked
// connection.
func (o *saver) Hijacked() {
	s := (*Session)(o)
	_, err := s.commit(make(map[string][]string))
	if err == nil {
		return
	}
	if Cancelled(s.r.Context(), err) {
		s.m.log.Debug("session: save after hijack: request cancelled", "err", err)
	} else {
		s.m.log.Error("session: save after hijack failed", "err", err)
	}
}
