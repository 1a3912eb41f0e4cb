package jwt

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	josejwt "github.com/go-jose/go-jose/v4/jwt"
)

// introspector asks an RFC 7662 endpoint about opaque tokens.
type introspector struct {
	url                    string
	clientID, clientSecret string
	client                 *http.Client
}

// introspect asks the endpoint about token and checks its answer as a
// JWT's claims are checked: active, iss, aud, exp and nbf.
func (p *Plugin) introspect(ctx context.Context, token string, now time.Time) (*Result, time.Time, error) {
	in := p.intro
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.url, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("jwt: introspection: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if in.clientID != "" || in.clientSecret != "" {
		// RFC 6749 2.3.1: the id and secret are form-encoded first.
		req.SetBasicAuth(url.QueryEscape(in.clientID), url.QueryEscape(in.clientSecret))
	}
	resp, err := in.client.Do(req)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("jwt: introspection %s: %w", in.url, err)
	}
	defer resp.Body.Close()
	var raw json.RawMessage
	if err := decodeBody(resp, &raw); err != nil {
		return nil, time.Time{}, fmt.Errorf("jwt: introspection %s: %w", in.url, err)
	}
	var answer struct {
		Active bool `json:"active"`
		josejwt.Claims
	}
	var all map[string]any
	if json.Unmarshal(raw, &answer) != nil || json.Unmarshal(raw, &all) != nil {
		return nil, time.Time{}, fmt.Errorf("jwt: introspection %s: the answer is not an RFC 7662 JSON object", in.url)
	}
	if !answer.Active {
		return nil, time.Time{}, refuse("introspection: token not active")
	}
	// RFC 7662 makes these claims optional: each one present is checked,
	// and aud must be present when audience is configured.
	e := p.expected.WithTime(now)
	if answer.Issuer == "" {
		e.Issuer = ""
	}
	if err := answer.Claims.ValidateWithLeeway(e, p.leeway); err != nil {
		return nil, time.Time{}, refuse("introspection: %v", err)
	}
	res, err := p.result(all)
	if err != nil {
		return nil, time.Time{}, err
	}
	var exp time.Time
	if answer.Expiry != nil {
		exp = answer.Expiry.Time().Add(p.leeway)
	}
	return res, exp, nil
}
