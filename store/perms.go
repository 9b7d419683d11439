package store

import "io/fs"

// CheckPermissions refuses a file that group or others can access, as ssh
// refuses loose keys. The error wraps ErrInsecurePermissions.
func CheckPermissions(path string, fi fs.FileInfo) error {
	if fi.Mode().Perm()&0o077 != 0 {
		return &PermissionError{Path: path, Mode: fi.Mode()}
	}
	return nil
}

func (f *File) checkPerm(fi fs.FileInfo) error {
	if f.opts.AllowInsecurePermissions {
		return nil
	}
	return CheckPermissions(f.path, fi)
}
