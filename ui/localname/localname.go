// Package localname names the window's built-in connection to its own
// broker in the window's language. The profile keeps its English name,
// "Local broker": that is its key in the profiles file, in bridges files
// and on the command line. So only what the window shows is translated,
// and every panel that lists or picks connections translates it the same
// way, through Label and back through Name.
package localname

import "fyne.io/fyne/v2/lang"

// Profile is the built-in profile's name, the same in every language.
const Profile = "Local broker"

// Label is how the window shows a connection's name.
func Label(name string) string {
	if name == Profile {
		return lang.L("Local broker")
	}
	return name
}

// Name is the connection a label shown by Label names. A profile named
// with the translated label in the Connections panel is named Profile,
// which that panel refuses for any profile but the built-in one.
func Name(label string) string {
	if label == Label(Profile) {
		return Profile
	}
	return label
}

// Labels are the labels of names, in their order.
func Labels(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = Label(n)
	}
	return out
}
