package config

import (
	"encoding"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/gowho/gowho/internal/suggest"
)

// taggedError is a message that unwraps to a sentinel without repeating
// the sentinel's text.
type taggedError struct {
	msg      string
	sentinel error
}

func (e *taggedError) Error() string { return e.msg }
func (e *taggedError) Unwrap() error { return e.sentinel }

func tagged(sentinel error, format string, args ...any) error {
	return &taggedError{msg: fmt.Sprintf(format, args...), sentinel: sentinel}
}

var (
	unmarshalerType     = reflect.TypeFor[toml.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	durationType        = reflect.TypeFor[time.Duration]()
	timeType            = reflect.TypeFor[time.Time]()
)

// decoder decodes a data tree (map[string]any, []any, string, int64,
// float64, bool, time.Time, as BurntSushi/toml produces) into a Go value,
// strictly: every key must name a field and every value must have the
// field's type. It collects every mistake instead of stopping at the first.
type decoder struct {
	errs []keyError
}

// decodeTable decodes table into v, which must be a non-nil pointer.
func decodeTable(table map[string]any, v any) []keyError {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || rv.Kind() != reflect.Pointer || rv.IsNil() {
		return []keyError{{err: fmt.Errorf("config: Decode needs a non-nil pointer, not %T", v)}}
	}
	d := &decoder{}
	d.value(nil, "", table, rv.Elem())
	return d.errs
}

func (d *decoder) fail(path []string, err error) {
	d.errs = append(d.errs, keyError{path: slices.Clone(path), err: err})
}

// value decodes data into rv. name is how the key is shown ("servers",
// "servers[2]", "tls.ca_file"); path is the key path, for its line.
func (d *decoder) value(path []string, name string, data any, rv reflect.Value) {
	if rv.CanAddr() {
		pv := rv.Addr()
		if pv.Type().Implements(unmarshalerType) {
			if err := pv.Interface().(toml.Unmarshaler).UnmarshalTOML(data); err != nil {
				d.fail(path, fmt.Errorf("key %q: %w", name, err))
			}
			return
		}
		if pv.Type().Implements(textUnmarshalerType) && rv.Type() != timeType {
			s, ok := data.(string)
			if !ok {
				d.fail(path, wrongType(name, "a string", data))
				return
			}
			if err := pv.Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
				d.fail(path, fmt.Errorf("key %q: %w", name, err))
			}
			return
		}
	}
	switch rv.Type() {
	case durationType:
		s, ok := data.(string)
		if !ok {
			d.fail(path, wrongType(name, `a duration string like "5m"`, data))
			return
		}
		v, err := time.ParseDuration(s)
		if err != nil {
			d.fail(path, fmt.Errorf("key %q: bad duration %q: write it like \"90s\", \"5m\" or \"1h\"", name, s))
			return
		}
		rv.SetInt(int64(v))
		return
	case timeType:
		t, ok := data.(time.Time)
		if !ok {
			d.fail(path, wrongType(name, "a datetime", data))
			return
		}
		rv.Set(reflect.ValueOf(t))
		return
	}
	switch rv.Kind() {
	case reflect.Pointer:
		if rv.IsNil() {
			rv.Set(reflect.New(rv.Type().Elem()))
		}
		d.value(path, name, data, rv.Elem())
	case reflect.Interface:
		if rv.NumMethod() > 0 {
			d.fail(path, fmt.Errorf("key %q: cannot decode into %s", name, rv.Type()))
			return
		}
		rv.Set(reflect.ValueOf(data))
	case reflect.String:
		s, ok := data.(string)
		if !ok {
			d.fail(path, wrongType(name, "a string", data))
			return
		}
		rv.SetString(s)
	case reflect.Bool:
		b, ok := data.(bool)
		if !ok {
			d.fail(path, wrongType(name, "a boolean (true or false)", data))
			return
		}
		rv.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := data.(int64)
		if !ok {
			d.fail(path, wrongType(name, "an integer", data))
			return
		}
		if rv.OverflowInt(n) {
			d.fail(path, fmt.Errorf("key %q: %d is out of range", name, n))
			return
		}
		rv.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n, ok := data.(int64)
		if !ok {
			d.fail(path, wrongType(name, "a non-negative integer", data))
			return
		}
		if n < 0 || rv.OverflowUint(uint64(n)) {
			d.fail(path, fmt.Errorf("key %q: %d is out of range", name, n))
			return
		}
		rv.SetUint(uint64(n))
	case reflect.Float32, reflect.Float64:
		var f float64
		switch x := data.(type) {
		case float64:
			f = x
		case int64:
			f = float64(x)
		default:
			d.fail(path, wrongType(name, "a number", data))
			return
		}
		if rv.Kind() == reflect.Float32 && !math.IsInf(f, 0) && !math.IsNaN(f) && math.Abs(f) > math.MaxFloat32 {
			d.fail(path, fmt.Errorf("key %q: %g is out of range", name, f))
			return
		}
		rv.SetFloat(f)
	case reflect.Slice, reflect.Array:
		elems, ok := arrayElems(data)
		if !ok {
			d.fail(path, wrongType(name, "an array", data))
			return
		}
		if rv.Kind() == reflect.Array {
			if len(elems) != rv.Len() {
				d.fail(path, fmt.Errorf("key %q: must have %d elements, not %d", name, rv.Len(), len(elems)))
				return
			}
		} else {
			rv.Set(reflect.MakeSlice(rv.Type(), len(elems), len(elems)))
		}
		for i, e := range elems {
			d.value(path, name+"["+strconv.Itoa(i)+"]", e, rv.Index(i))
		}
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			d.fail(path, fmt.Errorf("key %q: cannot decode into %s", name, rv.Type()))
			return
		}
		m, ok := data.(map[string]any)
		if !ok {
			d.fail(path, wrongType(name, "a table", data))
			return
		}
		if rv.IsNil() {
			rv.Set(reflect.MakeMapWithSize(rv.Type(), len(m)))
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			e := reflect.New(rv.Type().Elem()).Elem()
			d.value(append(path, k), join(name, k), m[k], e)
			rv.SetMapIndex(reflect.ValueOf(k).Convert(rv.Type().Key()), e)
		}
	case reflect.Struct:
		m, ok := data.(map[string]any)
		if !ok {
			d.fail(path, wrongType(name, "a table", data))
			return
		}
		d.structValue(path, name, m, rv)
	default:
		d.fail(path, fmt.Errorf("key %q: cannot decode into %s", name, rv.Type()))
	}
}

func (d *decoder) structValue(path []string, name string, m map[string]any, rv reflect.Value) {
	fields := structFields(rv.Type())
	for _, k := range slices.Sorted(maps.Keys(m)) {
		f, ok := fields.byName[k]
		if !ok {
			for _, n := range fields.names { // BurntSushi/toml matches case-insensitively
				if strings.EqualFold(n, k) {
					f, ok = fields.byName[n], true
					break
				}
			}
		}
		kp := append(path[:len(path):len(path)], k)
		if !ok {
			d.fail(kp, unknownKey(join(name, k), k, name, fields.names))
			continue
		}
		fv, err := rv.FieldByIndexErr(f)
		if err != nil { // a nil embedded pointer: allocate it
			fv = fieldByIndexAlloc(rv, f)
		}
		d.value(kp, join(name, k), m[k], fv)
	}
}

func fieldByIndexAlloc(v reflect.Value, index []int) reflect.Value {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v
}

// unknownKey is the error for a key no field has, with a did-you-mean
// from the struct's keys.
func unknownKey(full, k, parent string, names []string) error {
	if s := suggest.Closest(k, names); s != "" {
		return tagged(ErrUnknownKey, "unknown key %q (did you mean %q?)", full, join(parent, s))
	}
	if len(names) == 0 {
		return tagged(ErrUnknownKey, "unknown key %q (no options here)", full)
	}
	return tagged(ErrUnknownKey, "unknown key %q (known: %s)", full, strings.Join(names, ", "))
}

func join(parent, k string) string {
	if parent == "" {
		return k
	}
	return parent + "." + k
}

type fieldSet struct {
	byName map[string][]int
	names  []string // sorted
}

// structFields lists the keys of a struct type: toml tags, else field
// names, with untagged embedded structs flattened, as BurntSushi/toml.
func structFields(t reflect.Type) fieldSet {
	fs := fieldSet{byName: map[string][]int{}}
	var walk func(t reflect.Type, index []int)
	walk = func(t reflect.Type, index []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("toml")
			name, _, _ := strings.Cut(tag, ",")
			if name == "-" {
				continue
			}
			idx := append(index[:len(index):len(index)], i)
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
				walk(ft, idx)
				continue
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if _, dup := fs.byName[name]; !dup {
				fs.byName[name] = idx
				fs.names = append(fs.names, name)
			}
		}
	}
	walk(t, nil)
	slices.Sort(fs.names)
	return fs
}

func arrayElems(data any) ([]any, bool) {
	switch x := data.(type) {
	case []any:
		return x, true
	case []map[string]any:
		out := make([]any, len(x))
		for i, m := range x {
			out[i] = m
		}
		return out, true
	}
	return nil, false
}

// wrongType is the error for a value of the wrong TOML type.
// The value of a secret-named key is never shown.
func wrongType(name, want string, data any) error {
	what := describe(data)
	if SecretKey(name) {
		what, _, _ = strings.Cut(what, " (")
	}
	return tagged(ErrWrongType, "key %q must be %s, not %s", name, want, what)
}

// describe names a TOML value's type, with the value when it is short.
func describe(data any) string {
	switch x := data.(type) {
	case string:
		return "a string" // the value is never shown: it may be a secret from ${ENV}
	case int64:
		return fmt.Sprintf("an integer (%d)", x)
	case float64:
		return fmt.Sprintf("a float (%g)", x)
	case bool:
		return fmt.Sprintf("a boolean (%t)", x)
	case time.Time:
		return "a datetime"
	case []any, []map[string]any:
		return "an array"
	case map[string]any:
		return "a table"
	case nil:
		return "nothing"
	}
	return fmt.Sprintf("%T", data)
}

// errDecodeTwice is returned by PluginSpec.Decode the second time.
var errDecodeTwice = errors.New("config: PluginSpec.Decode called twice")
