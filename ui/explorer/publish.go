package explorer

// onPublishTo hands the selected topic and its last payload to
// Options.OnPublishTo. The payload is read off the UI goroutine (it may be
// megabytes, and the UI never reads the model); the form opens once it is
// read, unless the window closed meanwhile.
func (p *Panel) onPublishTo() {
	d, ok := p.rows[p.selected]
	if !ok || p.opts.OnPublishTo == nil || d.Parent == 0 || d.Topic == "" {
		return
	}
	ctx, id, open := p.life, d.ID, p.opts.OnPublishTo
	p.work.Add(1)
	go func() {
		defer p.work.Done()
		var payload []byte
		if n, ok := p.model.Node(id); ok && n.Messages > 0 {
			payload = n.Last.Payload
		}
		if ctx.Err() != nil {
			return
		}
		p.do(func() { open(d.Source, d.Topic, payload) })
	}()
}
