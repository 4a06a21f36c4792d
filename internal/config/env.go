package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// expand replaces each ${NAME} in s with the variable's value; $${ stands for a literal ${.
// It runs on parsed values, so a variable's content can never change the YAML's structure,
// and expanded text is not expanded again. Errors name variables, never quote s: s may be a
// secret.
func expand(s string, lookup func(string) (string, bool)) (string, []error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	var errs []error
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "$${"):
			b.WriteString("${")
			i += 3
		case strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return "", append(errs, errors.New("has a ${ without a closing } (write $${ for a literal ${)"))
			}
			name := s[i+2 : i+2+end]
			switch v, ok := lookup(name); {
			case !validName(name):
				errs = append(errs, errors.New("${…} must hold an environment variable name: letters, digits and _, not starting with a digit (write $${ for a literal ${)"))
			case !ok:
				errs = append(errs, fmt.Errorf("environment variable %s is not set", name))
			default:
				b.WriteString(v)
			}
			i += 2 + end + 1
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String(), errs
}

func validName(name string) bool {
	if name == "" || (name[0] >= '0' && name[0] <= '9') {
		return false
	}
	for _, c := range name {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// maxSecretFile bounds a secret file's size: a secret is at most a few kilobytes (a PEM key),
// and a mistaken path such as a log file should be a clear problem, not a huge "secret".
const maxSecretFile = 64 << 10

// readSecretFile returns the secret in the named file (relative names are relative to
// BaseDir) with one trailing newline removed, as editors and `echo` add one. Errors name the
// file, never its content.
func (d *decoder) readSecretFile(name string) (string, error) {
	if name == "" {
		return "", errors.New("is empty; name the file that holds the secret")
	}
	path := name
	if !filepath.IsAbs(path) && d.opts.BaseDir != "" {
		path = filepath.Join(d.opts.BaseDir, path)
	}
	// Stat first: opening a named pipe would block until something writes to it.
	info, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %s", path, reason(err))
	}
	if !info.Mode().IsRegular() {
		return "", fmt.Errorf("cannot read %s: not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %s", path, reason(err))
	}
	defer func() { _ = f.Close() }()
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %s", path, reason(err))
	}
	if len(data) > maxSecretFile {
		return "", fmt.Errorf("%s is larger than %d KiB; it should hold only the secret", path, maxSecretFile>>10)
	}
	s := string(data)
	if t, ok := strings.CutSuffix(s, "\r\n"); ok {
		s = t
	} else {
		s = strings.TrimSuffix(s, "\n")
	}
	if s == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return s, nil
}

// reason is an OS error without the path it repeats.
func reason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
