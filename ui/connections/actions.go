package connections

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/ui/localname"
)

// closeTimeout bounds a disconnect (the DISCONNECT packet and the
// library's goroutines).
const closeTimeout = 10 * time.Second

func (p *Panel) setBusy(id string, busy bool) {
	p.busy[id] = busy
	if busy {
		delete(p.notes, id)
	}
	p.updateRow(id)
}

func (p *Panel) setNote(id, note string) {
	p.notes[id] = note
	p.updateRow(id)
}

func (p *Panel) updateRow(id string) {
	if pr, ok := p.profile(id); ok {
		p.rows[id].update(p, pr)
	}
}

func (p *Panel) onConnect(id string) {
	pr, ok := p.profile(id)
	if !ok || p.busy[id] {
		return
	}
	if id == LocalID {
		// The user's choice wins over following the broker.
		p.followLocal = !p.open(pr)
		p.localTried = p.opts.LocalAddr()
	} else {
		p.rememberAtStart(pr, !p.open(pr))
	}
	if p.open(pr) {
		p.disconnect(pr)
		return
	}
	p.connect(id, nil)
}

// rememberAtStart saves whether the app opens pr when it starts: what the
// user last chose. Failing to save only costs that, so it is logged.
func (p *Panel) rememberAtStart(pr client.Profile, on bool) {
	if pr.ConnectAtStart == on {
		return
	}
	ps := slices.Clone(p.profiles)
	for i := range ps {
		if ps[i].ID == pr.ID {
			ps[i].ConnectAtStart = on
		}
	}
	if err := p.save(ps); err != nil {
		p.log.Warn("cannot remember whether to connect at start", "connection", pr.Name, "error", err)
	}
}

// connectAtStart opens the profiles the user left connected.
func (p *Panel) connectAtStart() {
	for _, pr := range p.profiles {
		if pr.ConnectAtStart && pr.ID != LocalID {
			p.connect(pr.ID, nil)
		}
	}
}

// reconnect closes the profile's connection and opens it again (with the
// local broker's current address).
func (p *Panel) reconnect(id string) {
	if pr, ok := p.profile(id); ok {
		p.reopen(pr.Name, id)
	}
}

// reopen closes the connection named name (the profile's name when it
// was opened) and opens the profile id as it is saved now.
func (p *Panel) reopen(name, id string) {
	if _, ok := p.profile(id); !ok {
		return
	}
	p.setBusy(id, true)
	p.async(func() func() {
		ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		defer cancel()
		err := p.opts.Manager.Close(ctx, name)
		return func() {
			p.setBusy(id, false)
			if err != nil {
				p.setNote(id, lang.L("Reconnect: ")+err.Error())
				return
			}
			p.connect(id, nil)
		}
	})
}

// connect opens the profile with its secrets from the keyring (or the
// session), and those in given; a missing secret is asked for, and the
// connect tried again with it.
func (p *Panel) connect(id string, given map[client.SecretKind]string) {
	pr, ok := p.profile(id)
	if !ok || p.busy[id] {
		return
	}
	if pr.ID == LocalID {
		addr := p.opts.LocalAddr()
		if addr == "" {
			p.setNote(id, lang.L("The embedded broker is not running: start it in the Broker panel, then connect."))
			return
		}
		pr.URL = "mqtt://" + addr
	}
	p.setBusy(id, true)
	p.async(func() func() {
		creds, missing, err := gatherCredentials(p.opts.Secrets, pr, given)
		if err != nil {
			return func() {
				p.setBusy(id, false)
				p.askSecret(pr, missing, err, given)
			}
		}
		_, err = p.opts.Manager.Open(pr, creds)
		return func() {
			p.setBusy(id, false)
			if err != nil {
				p.setNote(id, lang.L("Not connected: ")+err.Error())
			}
		}
	})
}

func (p *Panel) disconnect(pr client.Profile) {
	p.setBusy(pr.ID, true)
	p.async(func() func() {
		ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		defer cancel()
		err := p.opts.Manager.Close(ctx, pr.Name)
		return func() {
			p.setBusy(pr.ID, false)
			if err != nil {
				p.setNote(pr.ID, lang.L("Disconnect: ")+err.Error())
			}
		}
	})
}

// neededSecrets are the secrets pr connects with, in the order
// client.Secrets.Credentials reads them.
func neededSecrets(pr client.Profile) []client.SecretKind {
	var kinds []client.SecretKind
	if pr.HasPassword && pr.Azure == nil {
		kinds = append(kinds, client.SecretPassword)
	}
	if pr.TLS.HasPassphrase {
		kinds = append(kinds, client.SecretKeyPassphrase)
	}
	if pr.Azure != nil {
		kinds = append(kinds, client.SecretAzureDeviceKey)
	}
	return kinds
}

// gatherCredentials collects pr's secrets, from given first; it returns
// the first one that is missing and why.
func gatherCredentials(s *client.Secrets, pr client.Profile, given map[client.SecretKind]string) (client.Credentials, client.SecretKind, error) {
	var c client.Credentials
	for _, kind := range neededSecrets(pr) {
		v, ok := given[kind]
		if !ok {
			var err error
			if v, err = s.Get(pr.ID, kind); err != nil {
				return c, kind, err
			}
		}
		switch kind {
		case client.SecretPassword:
			c.Password = v
		case client.SecretKeyPassphrase:
			c.KeyPassphrase = v
		case client.SecretAzureDeviceKey:
			c.AzureDeviceKey = v
		}
	}
	return c, "", nil
}

// secretWords names a secret for people.
func secretWords(kind client.SecretKind) string {
	switch kind {
	case client.SecretKeyPassphrase:
		return lang.L("private key passphrase")
	case client.SecretAzureDeviceKey:
		return lang.L("Azure device key")
	}
	return lang.L("password")
}

// askSecret asks for exactly the secret the connect is missing, then
// connects with it. why says whether the keyring lacks it or there is no
// keyring at all; without one, it offers to keep the secret for the
// session.
func (p *Panel) askSecret(pr client.Profile, kind client.SecretKind, why error, given map[client.SecretKind]string) {
	if !errors.Is(why, client.ErrSecretNotFound) && !isKeyringMissing(why) {
		p.setNote(pr.ID, lang.L("Not connected: ")+why.Error())
		return
	}
	words := secretWords(kind)
	entry := widget.NewPasswordEntry()
	entry.SetPlaceHolder(words)
	var msg string
	var keep *widget.Check
	if isKeyringMissing(why) {
		msg = fmt.Sprintf(lang.L("Connection %q needs its %s.\nThere is no OS keyring to keep it in (on Linux, install and unlock GNOME Keyring or KWallet); IoT Studio never writes secrets to disk."), pr.Name, words)
		keep = widget.NewCheck(lang.L("Keep for this session only (forgotten when IoT Studio quits)"), nil)
	} else {
		msg = fmt.Sprintf(lang.L("Connection %q needs its %s, and the OS keyring does not hold it."), pr.Name, words)
		keep = widget.NewCheck(lang.L("Save it in the OS keyring"), nil)
		keep.SetChecked(true)
	}
	text := widget.NewLabel(msg)
	text.Wrapping = fyne.TextWrapWord
	content := container.NewVBox(text, entry, keep)
	d := dialog.NewCustomConfirm(fmt.Sprintf(lang.L("%s needed"), capitalize(words)), lang.L("Connect"), lang.L("Cancel"), content, func(ok bool) {
		if !ok {
			return
		}
		next := maps.Clone(given)
		if next == nil {
			next = map[client.SecretKind]string{}
		}
		next[kind] = entry.Text
		switch {
		case !keep.Checked:
			p.connect(pr.ID, next)
		case isKeyringMissing(why):
			p.opts.Secrets.KeepForSession(pr.ID, kind, entry.Text)
			p.connect(pr.ID, next)
		default:
			p.saveSecretThenConnect(pr.ID, kind, entry.Text, next)
		}
	}, p.win)
	d.Resize(fyne.NewSize(520, 260))
	d.Show()
	p.win.Canvas().Focus(entry)
}

func (p *Panel) saveSecretThenConnect(id string, kind client.SecretKind, secret string, given map[client.SecretKind]string) {
	p.async(func() func() {
		err := p.opts.Secrets.Set(id, kind, secret)
		return func() {
			p.connect(id, given)
			if err != nil {
				p.setNote(id, fmt.Sprintf(lang.L("The %s was used but not saved: %v"), secretWords(kind), err))
			}
		}
	})
}

func (p *Panel) onEdit(id string) {
	if pr, ok := p.profile(id); ok {
		p.showForm(pr, editProfile, "")
	}
}

// onDuplicate opens the form on a copy; secrets stay with the original
// (the copy asks for them at connect, or takes new ones in the form).
func (p *Panel) onDuplicate(id string) {
	pr, ok := p.profile(id)
	if !ok {
		return
	}
	c := pr
	c.ID = client.NewID()
	c.Name = p.uniqueName(localname.Label(pr.Name) + lang.L(" copy"))
	c.TLS.ALPN = slices.Clone(pr.TLS.ALPN)
	c.Subscribe = slices.Clone(pr.Subscribe)
	c.Templates = slices.Clone(pr.Templates)
	c.ConnectAtStart = false // the copy was never connected
	if pr.Will != nil {
		w := *pr.Will
		c.Will = &w
	}
	if pr.Azure != nil {
		a := *pr.Azure
		c.Azure = &a
	}
	if pr.ID == LocalID {
		if addr := p.opts.LocalAddr(); addr != "" {
			c.URL = "mqtt://" + addr
		}
	}
	p.showForm(c, copyProfile, lang.L("Saved passwords, passphrases and device keys are not copied: enter them here, or you are asked for them at connect."))
}

func (p *Panel) onDelete(id string) {
	pr, ok := p.profile(id)
	if !ok || pr.ID == LocalID {
		return
	}
	msg := widget.NewLabel(fmt.Sprintf(lang.L("Delete the connection %q?\nIts saved password, key passphrase and device key are removed from the keyring too."), pr.Name))
	dialog.NewCustomConfirm(lang.L("Delete connection"), lang.L("Delete"), lang.L("Cancel"), msg, func(ok bool) {
		if !ok {
			return
		}
		ps := slices.DeleteFunc(slices.Clone(p.profiles), func(q client.Profile) bool { return q.ID == id })
		if err := p.save(ps); err != nil {
			dialog.ShowError(fmt.Errorf(lang.L("The connection %q was not deleted: %w"), pr.Name, err), p.win)
			return
		}
		p.async(func() func() {
			// Without a keyring there was nothing to delete there; session
			// secrets are gone either way.
			if err := p.opts.Secrets.Forget(id); err != nil && !isKeyringMissing(err) {
				p.log.Warn("secrets of a deleted connection not removed from the keyring", "connection", pr.Name, "error", err)
			}
			return nil
		})
	}, p.win).Show()
}

// commit puts pr in the list (replacing the profile with its ID) and
// saves the list.
func (p *Panel) commit(pr client.Profile) error {
	ps := slices.Clone(p.profiles)
	if i := slices.IndexFunc(ps, func(q client.Profile) bool { return q.ID == pr.ID }); i >= 0 {
		ps[i] = pr
	} else {
		ps = append(ps, pr)
	}
	return p.save(ps)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
