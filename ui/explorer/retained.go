package explorer

import (
	"context"
	"errors"
	"fmt"

	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/topics"
	"github.com/iotstudio/iotstudio/ui/numfmt"
)

// onDeleteRetained asks to delete the retained messages of the selected
// topic and every topic below it, saying how many topics that is.
func (p *Panel) onDeleteRetained() {
	d, ok := p.rows[p.selected]
	if !ok || d.SubtreeRetained == 0 || p.publisherFor(d.Source) == nil {
		return
	}
	c := dialog.NewConfirm(lang.L("Delete retained messages"), deleteQuestion(&d), func(yes bool) {
		p.deleteDlg = nil
		if yes {
			p.deleteRetained(d.ID, d.Source)
		}
	}, p.win)
	c.SetDismissText(lang.L("Cancel"))
	c.SetConfirmText(lang.L("Delete ") + numfmt.Plural(d.SubtreeRetained, "retained message", "retained messages"))
	c.SetConfirmImportance(widget.DangerImportance)
	p.deleteDlg = c
	c.Show()
}

// deleteQuestion states what deleting will do, with the number of topics.
func deleteQuestion(d *rowData) string {
	var what string
	switch {
	case d.SubtreeRetained == 1 && d.Retained:
		what = fmt.Sprintf(lang.L("Delete the retained message of %s?"), d.Topic)
	case d.Parent == 0:
		what = fmt.Sprintf(lang.L("Delete the retained messages of %s in %s?"),
			numfmt.Plural(d.SubtreeRetained, "topic", "topics"), sourceTitle(d.Source))
	default:
		what = fmt.Sprintf(lang.L("Delete the retained messages of %s at and below %s?"),
			numfmt.Plural(d.SubtreeRetained, "topic", "topics"), d.Topic)
	}
	return what + lang.L("\n\nEach topic gets an empty retained message, which makes the broker\n") +
		lang.L("forget its retained message; current subscribers receive the empty message.")
}

// deleteRetained publishes an empty retained message to every topic at or
// below id that holds a retained message, off the UI goroutine, and shows
// the result. The topics are read again here rather than taken from the
// confirmation, so that one retained since is deleted too.
func (p *Panel) deleteRetained(id topics.NodeID, source string) {
	pub := p.publisherFor(source)
	if pub == nil {
		p.setNote(lang.L("Could not delete retained messages: ") + sourceTitle(source) + lang.L(" cannot be published to now (is its connection up?)"))
		return
	}
	p.setNote(lang.L("Deleting retained messages…"))
	p.actions.Go(func(ctx context.Context) {
		n, err := deleteRetained(ctx, p.model, pub, source, id)
		if ctx.Err() != nil {
			return // the window is gone
		}
		p.do(func() {
			switch {
			case err != nil && n > 0:
				p.setNote(fmt.Sprintf(lang.L("Deleted %s, then failed: %v"),
					numfmt.Plural(n, "retained message", "retained messages"), err))
			case err != nil:
				p.setNote(lang.L("Could not delete retained messages: ") + err.Error())
			default:
				p.setNote(lang.L("Deleted ") + numfmt.Plural(n, "retained message", "retained messages") + ".")
			}
		})
	})
}

// deleteRetained deletes the retained messages at or below id and returns
// how many it deleted. An empty retained PUBLISH removes the retained
// message of its topic ([MQTT-3.3.1-6] in MQTT 5, [MQTT-3.3.1-10] in
// 3.1.1); the model sees it too and clears the topic's retained flag.
func deleteRetained(ctx context.Context, m *topics.Model, pub Publisher, source string, id topics.NodeID) (int, error) {
	list, err := retainedTopics(m, source, id)
	if err != nil {
		return 0, err
	}
	for i, t := range list {
		if ctx.Err() != nil {
			return i, fmt.Errorf(lang.L("stopped after %d of %d topics: %w"), i, len(list), ctx.Err())
		}
		if err := pub.Publish(t, nil, true, 0); err != nil {
			return i, fmt.Errorf(lang.L("the retained message of %q: %w"), t, err)
		}
	}
	return len(list), nil
}

// retainedTopics lists the topics at or below id that hold a retained
// message, in one snapshot, descending only into subtrees that hold some.
func retainedTopics(m *topics.Model, source string, id topics.NodeID) ([]string, error) {
	var (
		out []string
		err error
	)
	m.View(func(v topics.View) {
		s, ok := v.Summary(id)
		switch {
		case !ok:
			err = errors.New(lang.L("the selected topic is no longer in the tree"))
			return
		case s.Source != source:
			err = fmt.Errorf(lang.L("retained messages can be deleted only on %s, not on %s"), sourceTitle(source), sourceTitle(s.Source))
			return
		}
		stack := []topics.NodeSummary{s}
		for len(stack) > 0 {
			n := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if n.Retained {
				out = append(out, n.Topic)
			}
			for _, c := range v.Children(n.ID) {
				if c.SubtreeRetained > 0 {
					stack = append(stack, c)
				}
			}
		}
	})
	return out, err
}
