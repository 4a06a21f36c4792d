package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/offboard-dev/offboard/internal/secret"
)

var (
	secretType   = reflect.TypeFor[secret.Value]()
	durationType = reflect.TypeFor[time.Duration]()
)

// fileSuffix marks the twin of a secret setting that names a file holding the secret.
const fileSuffix = "_file"

// Parse parses and validates a configuration, applies defaults and returns it. When it is
// invalid the error is Problems, listing every problem in file order.
func Parse(data []byte, opts Options) (*Config, error) {
	if opts.LookupEnv == nil {
		opts.LookupEnv = os.LookupEnv
	}
	d := &decoder{opts: opts, lines: map[string]int{}, bad: map[string]bool{}}
	cfg := &Config{}

	// The file is parsed into a yaml.Node and walked by hand, rather than decoded with
	// yaml's KnownFields, because yaml stops at the first unknown key and names lines, not
	// settings; walking lets every problem be reported, each with its path.
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	switch err := dec.Decode(&root); {
	case errors.Is(err, io.EOF):
		// An empty file: validation reports what is missing.
	case err != nil:
		return nil, Problems{{Message: "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}}
	case len(root.Content) == 0:
		// Only comments: as empty.
	default:
		if top := resolve(root.Content[0]); top.Kind != yaml.MappingNode && !isNull(top) {
			return nil, Problems{{Message: "the file must be a mapping of sections (store:, connectors:, ...), not " + describe(top), Line: top.Line}}
		}
		var extra yaml.Node
		if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
			d.problems = append(d.problems, Problem{Message: "the file holds more than one YAML document (---); put everything in one", Line: extra.Line})
		}
		d.decode(root.Content[0], "", reflect.ValueOf(cfg).Elem())
	}
	d.validate(cfg)
	if len(d.problems) > 0 {
		return nil, d.finish(cfg)
	}
	cfg.applyDefaults()
	return cfg, nil
}

// decoder walks the YAML tree into a Config, collecting problems instead of stopping.
type decoder struct {
	opts     Options
	problems Problems
	// lines records the line of every setting present in the file, by path.
	lines map[string]int
	// bad records paths that already have a problem, so validation does not pile a second,
	// derived complaint (such as "required") on the same setting.
	bad map[string]bool
}

func (d *decoder) problem(path string, line int, format string, args ...any) {
	d.bad[path] = true
	d.problems = append(d.problems, Problem{Path: path, Message: fmt.Sprintf(format, args...), Line: line})
}

// finish orders the problems as the file is (those without a line last) and removes any
// secret value that reached one, e.g. a token pasted into a duration.
func (d *decoder) finish(cfg *Config) Problems {
	var r secret.Redactor
	r.Add(cfg.Secrets()...)
	out := slices.Clone(d.problems)
	for i := range out {
		out[i].Path = r.Redact(out[i].Path)
		out[i].Message = r.Redact(out[i].Message)
	}
	slices.SortStableFunc(out, func(a, b Problem) int {
		switch {
		case a.Line == b.Line:
			return 0
		case a.Line == 0:
			return 1
		case b.Line == 0:
			return -1
		}
		return a.Line - b.Line
	})
	return out
}

// decode sets v from n. v's type decides what n must be.
func (d *decoder) decode(n *yaml.Node, path string, v reflect.Value) {
	n = resolve(n)
	if isNull(n) {
		// "okta:" with nothing under it still switches the section on, so that what it lacks
		// is reported rather than the section silently ignored.
		if v.Kind() == reflect.Pointer {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return
	}
	switch {
	case v.Type() == secretType:
		if s, ok := d.scalar(n, path); ok {
			v.Set(reflect.ValueOf(secret.New(s)))
		}
	case v.Type() == durationType:
		s, ok := d.scalar(n, path)
		if !ok {
			return
		}
		dur, err := time.ParseDuration(s)
		if err != nil {
			d.problem(path, n.Line, "%s is not a duration (write e.g. 90s, 5m or 1h30m)", quote(s))
			return
		}
		v.SetInt(int64(dur))
	case v.Kind() == reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		d.decode(n, path, p.Elem())
		// A section that is not even a mapping stays off, so validation does not add a
		// "required" for each of its settings to the one problem that matters.
		if !d.bad[path] {
			v.Set(p)
		}
	case v.Kind() == reflect.Struct:
		d.mapping(n, path, v)
	case v.Kind() == reflect.Slice:
		d.sequence(n, path, v)
	case v.Kind() == reflect.Map && v.Type().Key().Kind() == reflect.String && v.Type().Elem().Kind() == reflect.String:
		d.stringMap(n, path, v)
	case v.Kind() == reflect.Bool:
		s, ok := d.scalar(n, path)
		if !ok {
			return
		}
		switch s {
		case "true":
			v.SetBool(true)
		case "false":
			v.SetBool(false)
		default:
			d.problem(path, n.Line, "%s is not true or false", quote(s))
		}
	case v.Kind() == reflect.String:
		if s, ok := d.scalar(n, path); ok {
			v.SetString(s)
		}
	case v.Kind() == reflect.Int:
		s, ok := d.scalar(n, path)
		if !ok {
			return
		}
		i, err := strconv.Atoi(s)
		if err != nil {
			d.problem(path, n.Line, "%s is not a whole number", quote(s))
			return
		}
		v.SetInt(int64(i))
	default:
		// Reached only when a field of an unsupported type is added to Config; the Example
		// test covers every field.
		panic(fmt.Sprintf("config: %s has unsupported type %s", path, v.Type()))
	}
}

// sequence decodes a YAML list into slice v; each element's path is path[i].
func (d *decoder) sequence(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.SequenceNode {
		d.problem(path, n.Line, "must be a list (each entry starting with -), not %s", describe(n))
		return
	}
	out := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		d.lines[p] = item.Line
		d.decode(item, p, out.Index(i))
	}
	v.Set(out)
}

// stringMap decodes a mapping of names to single values, such as a column per system.
func (d *decoder) stringMap(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.problem(path, n.Line, "must be a mapping of names to values, not %s", describe(n))
		return
	}
	m := reflect.MakeMap(v.Type())
	for _, kv := range d.pairs(n, path) {
		p := join(path, kv[0].Value)
		d.lines[p] = kv[0].Line
		if s, ok := d.scalar(resolve(kv[1]), p); ok {
			m.SetMapIndex(reflect.ValueOf(kv[0].Value), reflect.ValueOf(s))
		}
	}
	v.Set(m)
}

// scalar returns n's text with ${NAME} references expanded. Messages never quote the text:
// the setting may be a secret.
func (d *decoder) scalar(n *yaml.Node, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		d.problem(path, n.Line, "must be a single value, not %s", describe(n))
		return "", false
	}
	s, errs := expand(n.Value, d.opts.LookupEnv)
	for _, err := range errs {
		d.problem(path, n.Line, "%s", err)
	}
	return s, len(errs) == 0
}

// field is one settable key of a struct.
type field struct {
	index  int
	secret bool
}

func fieldsOf(t reflect.Type) (map[string]field, []string) {
	fields := map[string]field{}
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		name := f.Tag.Get("yaml")
		if name == "" || !f.IsExported() {
			continue
		}
		isSecret := f.Type == secretType
		fields[name] = field{index: i, secret: isSecret}
		names = append(names, name)
		if isSecret {
			names = append(names, name+fileSuffix)
		}
	}
	return fields, names
}

// mapping decodes a YAML mapping into struct v, reporting unknown and repeated keys, and reads
// the *_file twins of secret fields once every key is known.
func (d *decoder) mapping(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.problem(path, n.Line, "must be a mapping of settings, not %s", describe(n))
		return
	}
	fields, names := fieldsOf(v.Type())
	set := map[string]bool{} // secret fields given a value directly
	var files []string       // secret fields given as *_file, in file order
	fileNodes := map[string]*yaml.Node{}
	for _, kv := range d.pairs(n, path) {
		key, val := kv[0].Value, kv[1]
		p := join(path, key)
		d.lines[p] = kv[0].Line
		if f, ok := fields[key]; ok {
			if f.secret && !isNull(resolve(val)) {
				set[key] = true
			}
			d.decode(val, p, v.Field(f.index))
			continue
		}
		if base, ok := strings.CutSuffix(key, fileSuffix); ok && fields[base].secret {
			files = append(files, base)
			fileNodes[base] = val
			continue
		}
		d.problem(p, kv[0].Line, "unknown field%s", suggest(key, names))
	}
	for _, base := range files {
		p := join(path, base+fileSuffix)
		val := resolve(fileNodes[base])
		if set[base] {
			d.problem(p, val.Line, "both %s and %s are set; keep one", base, base+fileSuffix)
			continue
		}
		if isNull(val) {
			continue
		}
		name, ok := d.scalar(val, p)
		if !ok {
			continue
		}
		s, err := d.readSecretFile(name)
		if err != nil {
			d.problem(p, val.Line, "%s", err)
			continue
		}
		v.Field(fields[base].index).Set(reflect.ValueOf(secret.New(s)))
	}
}

// pairs returns a mapping's key/value pairs: its own keys (a repeated key is a problem), then
// keys brought in by YAML merge keys (<<: *anchor) that it does not set itself.
func (d *decoder) pairs(n *yaml.Node, path string) [][2]*yaml.Node {
	var own, merged [][2]*yaml.Node
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.problem(path, k.Line, "keys must be plain names, not %s", describe(k))
			continue
		}
		if k.ShortTag() == "!!merge" {
			merged = append(merged, d.mergePairs(val, path)...)
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.problem(join(path, k.Value), k.Line, "set twice (first on line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		own = append(own, [2]*yaml.Node{k, val})
	}
	for _, kv := range merged {
		if _, ok := seen[kv[0].Value]; !ok {
			seen[kv[0].Value] = kv[0].Line
			own = append(own, kv)
		}
	}
	return own
}

// mergePairs returns the pairs a merge key brings in: one mapping, or a list of them where
// earlier ones win.
func (d *decoder) mergePairs(val *yaml.Node, path string) [][2]*yaml.Node {
	val = resolve(val)
	switch val.Kind {
	case yaml.MappingNode:
		return d.pairs(val, path)
	case yaml.SequenceNode:
		var out [][2]*yaml.Node
		have := map[string]bool{}
		for _, m := range val.Content {
			m = resolve(m)
			if m.Kind != yaml.MappingNode {
				d.problem(path, m.Line, "<< must refer to mappings, not %s", describe(m))
				continue
			}
			for _, kv := range d.pairs(m, path) {
				if !have[kv[0].Value] {
					have[kv[0].Value] = true
					out = append(out, kv)
				}
			}
		}
		return out
	}
	d.problem(path, val.Line, "<< must refer to a mapping, not %s", describe(val))
	return nil
}

// resolve follows aliases (*anchor) to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "a single value"
	}
	return "this"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// quote shows a value in a message, shortened so a long paste does not swamp the list.
func quote(s string) string {
	const max = 40
	if r := []rune(s); len(r) > max {
		s = string(r[:max]) + "…"
	}
	return strconv.Quote(s)
}

// suggest names the known key closest to an unknown one, when it is close enough to be a typo.
func suggest(key string, names []string) string {
	best, bestDist := "", 3
	for _, name := range names {
		if dist := editDistance(key, name); dist < bestDist {
			best, bestDist = name, dist
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
