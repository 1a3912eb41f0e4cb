package ldap

import (
	"strings"

	"github.com/gowho/gowho/who"
)

// The original's class names, accepted as `use` aliases.
const (
	aliasBind   = "repoze.who.plugins.ldap:LDAPAuthenticatorPlugin"
	aliasSearch = "repoze.who.plugins.ldap:LDAPSearchAuthenticatorPlugin"
	aliasAttrs  = "repoze.who.plugins.ldap:LDAPAttributesPlugin"
)

func init() {
	who.Register("ldap", factory, aliasBind, aliasSearch, aliasAttrs)
}

func factory(spec who.PluginSpec) (any, error) {
	var o Options
	if err := spec.Decode(&o); err != nil {
		return nil, err
	}
	switch spec.Use {
	case aliasBind, aliasSearch, aliasAttrs:
		// The original returned the DN by default.
		if o.ReturnedID == "" {
			o.ReturnedID = ReturnDN
		}
		// LDAPAuthenticatorPlugin binds as NAMING_ATTRIBUTE=LOGIN,BASE_DN.
		if spec.Use == aliasBind && o.BindDNTemplate == "" && o.BaseDN != "" {
			na := o.NamingAttribute
			if na == "" {
				na = DefaultNamingAttribute
			}
			o.BindDNTemplate = na + "=%s," + strings.ReplaceAll(o.BaseDN, "%", "")
		}
	}
	o.CAFile = spec.Path(o.CAFile)
	o.Logger = spec.Logger
	return New(o)
}
