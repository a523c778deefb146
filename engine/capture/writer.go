package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"
	"time"

	badgerdb "github.com/dgraph-io/badger/v4"

	"github.com/iotstudio/iotstudio/engine/kvstore"
)

// writer is the state of the writer goroutine, the only one that writes to
// Badger; only that goroutine uses it.
type writer struct {
	s            *Store
	known        map[uint64]struct{} // topic hashes whose h| entry is written
	dirty        bool                // written since the last Sync
	errs         kvstore.ErrTally
	groups       map[uint64][]uint32 // scratch for building.finish
	hashes       []uint64            // scratch for building.finish
	segStart     time.Time           // when the open segment started
	segBlocks    int                 // blocks in it; >= Options.segmentBlocks starts a new one
	segTopics    map[uint64]struct{} // topic hashes with a t| entry in it
	savedDropped int64               // DroppedTotal as last written
	buf          batchBuf            // keys and values of the batch's index entries
	full         bool                // the disk is full: drained records are dropped, sealed blocks wait

	savedTooLarge int64 // TooLargeTotal as last written

	live    []laneRun   // what the last drain took from each lane
	held    []laneRun   // records the last drain left for the next (see drain)
	imports laneRun     // what the last drain took from the import lane
	merge   []*laneRun  // held, then live
	cur     *building   // being filled; nil when empty
	sealed  []*building // waiting to be written, oldest first
	free    []*building // emptied blocks for reuse

	idleDrains int // drains in a row that took nothing (see shedWhenIdle)
}

func newWriter(s *Store) *writer {
	return &writer{s: s, known: make(map[uint64]struct{}), groups: make(map[uint64][]uint32),
		segTopics: make(map[uint64]struct{}), segBlocks: s.opts.segmentBlocks,
		savedDropped: s.droppedBase.Load(), live: make([]laneRun, len(s.lanes)), held: make([]laneRun, len(s.lanes)),
		savedTooLarge: s.tooLargeBase.Load()}
}

// runWriter drains the lanes when one is worth it and every blockMaxAge/2,
// writes blocks once they are full or blockMaxAge old, syncs every
// SyncEvery, applies retention, and on Close writes everything accepted
// before exiting.
func (s *Store) runWriter(w *writer) {
	defer close(s.writerDone)
	if gate := s.opts.writerGate; gate != nil {
		select {
		case <-gate:
		case <-s.quit:
		}
	}
	syncTick := time.NewTicker(s.opts.SyncEvery)
	defer syncTick.Stop()
	drainTick := time.NewTicker(blockMaxAge / 2)
	defer drainTick.Stop()
	retainTick := time.NewTicker(retainEvery)
	defer retainTick.Stop()
	w.applyRetention()
	for {
		select {
		case <-s.wake:
			w.drain(false)
			w.writeIfReady()
		case <-drainTick.C:
			w.drain(false)
			w.writeIfReady()
			if w.full { // resume once a block, and what waits, fits
				w.room(max(int64(s.opts.blockBytes), w.sealedRoom()))
			}
		case <-syncTick.C:
			w.sync()
		case <-retainTick.C:
			w.applyRetention()
		case <-s.retainKick:
			w.applyRetention()
		case reply := <-s.flushReq:
			w.drain(false)
			w.seal()
			w.writeSealed()
			w.reportWaiting()
			w.applyRetention()
			w.sync()
			reply <- w.errs.Take()
		case reply := <-s.clearReq:
			n, err := w.clear()
			reply <- clearResult{n, err}
		case <-s.quit:
			w.drain(true)
			w.seal()
			w.writeSealed()
			w.dropWaiting()
			w.sync()
			s.writerErr = w.errs.Take()
			return
		}
	}
}

// drain takes every lane's records and places them in blocks: the live
// lanes' merged in the order Ingest was called, then the import lane's in
// order. With closing, the lanes take nothing more.
//
// Lanes are taken one after the other, so a record put after its lane was
// taken may have been called before one taken from a later lane. Only
// records called before the drain started are placed; the rest are held
// for the next drain, so that a goroutine's records keep their order even
// when it moves between processors, and so lanes, mid-drain. (A record
// called before the drain but put after its lane was taken comes with the
// next drain, still ahead of its goroutine's later records, which were
// called after it was put.)
func (w *writer) drain(closing bool) {
	s := w.s
	cut := time.Since(s.epoch)
	took := false
	for i, l := range s.lanes {
		l.take(s, &w.live[i], closing)
		took = took || len(w.live[i].recs) > 0
	}
	s.imports.take(s, &w.imports, closing)
	took = took || len(w.imports.recs) > 0
	w.merge = w.merge[:0]
	for i := range w.held {
		w.merge = append(w.merge, &w.held[i])
	}
	for i := range w.live {
		w.merge = append(w.merge, &w.live[i])
	}
	for {
		var best *laneRun
		for _, r := range w.merge {
			if !r.done() && (best == nil || r.recs[r.next].order < best.recs[best.next].order) {
				best = r
			}
		}
		if best == nil || (!closing && best.recs[best.next].order > cut) {
			break
		}
		w.place(best)
	}
	for i := range w.live {
		w.live[i].keepRest(&w.held[i])
	}
	for !w.imports.done() {
		w.place(&w.imports)
	}
	if took { // Append may be waiting for room, whichever lanes filled the queue
		s.mu.Lock()
		close(s.room)
		s.room = make(chan struct{})
		s.mu.Unlock()
	}
	w.shedWhenIdle(took)
}

// shedWhenIdle gives back, after laneShrinkDrains drains in a row that
// took nothing, what only a flow of records needs: the emptied blocks
// kept for reuse (up to maxFreeBlocks of blockBytes) and the scratch map
// of building.finish, which clear does not shrink (one slot per topic of
// the busiest block). The lanes' buffers go the same way (laneRun.reset).
func (w *writer) shedWhenIdle(took bool) {
	if took {
		w.idleDrains = 0
		return
	}
	if w.idleDrains++; w.idleDrains == laneShrinkDrains {
		clear(w.free)
		w.free = nil
		w.groups = make(map[uint64][]uint32)
	}
}

// place adds r's next record to the block being filled, as seq nextSeq.
func (w *writer) place(r *laneRun) {
	s := w.s
	rec, meta := r.record(r.next), r.recs[r.next]
	r.next++
	if w.full { // no seq: the records after it stay contiguous
		s.dropped.Add(1)
		return
	}
	b := w.cur
	if b != nil && b.size()+len(rec)+4 > s.opts.blockBytes {
		w.seal()
		w.writeIfBatchFull()
		b = nil
	}
	if b == nil {
		b = w.newBlock(len(rec))
	}
	w.indexSecond(b, meta.sec, s.nextSeq)
	b.add(rec, meta.hash, meta.ns)
	s.nextSeq++
}

// indexSecond keeps the time index (m|) for a record received in sec: a
// mark where the greatest second seen advances, and a disorder mark on
// the block when the record is more than untilSlack seconds older than
// that, or claims to be from the future (the index must not jump ahead of
// the records that follow).
func (w *writer) indexSecond(b *building, sec int64, seq uint64) {
	s := w.s
	switch {
	case s.haveSec && sec <= s.lastSec:
		if sec < s.lastSec-untilSlack {
			b.disordered = true
		}
	case sec > time.Now().Unix()+untilSlack:
		b.disordered = true
	default:
		b.secs = append(b.secs, secondMark{sec: sec, seq: seq})
		s.lastSec, s.haveSec = sec, true
	}
}

func (w *writer) newBlock(size int) *building {
	blockBytes := w.s.opts.blockBytes
	var b *building
	if n := len(w.free); n > 0 && size+blockHeaderLen+4 <= blockBytes {
		b, w.free = w.free[n-1], w.free[:n-1]
	} else {
		b = &building{buf: make([]byte, 0, max(blockBytes+blockBytes/8, size+blockHeaderLen+4))}
	}
	b.reset(w.s.nextSeq)
	b.since = time.Now()
	w.cur = b
	return b
}

// seal queues the block being filled for writing.
func (w *writer) seal() {
	if w.cur != nil {
		w.sealed = append(w.sealed, w.cur)
		w.cur = nil
	}
}

// writeIfReady seals a block that is blockMaxAge old and writes the
// sealed blocks once they are worth a write: at least writeBatchBytes, or
// the oldest blockMaxAge old. Badger's value log encodes each write call
// into a fresh buffer as large as its largest value, so one write of
// several blocks makes a fraction of the garbage of one write per block
// (measured: bytes allocated per record fell from about the record's size
// to a quarter of it).
func (w *writer) writeIfReady() {
	if w.cur != nil && time.Since(w.cur.since) >= blockMaxAge {
		w.seal()
	}
	if len(w.sealed) == 0 {
		return
	}
	size := 0
	for _, b := range w.sealed {
		size += b.size()
	}
	if size >= writeBatchBytes || time.Since(w.sealed[0].since) >= blockMaxAge {
		w.writeSealed()
	}
}

// writeIfBatchFull writes the sealed blocks once they fill a write batch.
// A drain takes up to QueueBytes from the lanes at once; placing all of it
// before writing held it twice more, as blocks and in Badger's encoding
// of the batch (about 60 MB of blocks mid-burst with the default queue),
// while the lanes refilled.
func (w *writer) writeIfBatchFull() {
	if len(w.sealed)*w.s.opts.blockBytes >= writeBatchBytes {
		w.writeSealed()
	}
}

// writeSealed writes the sealed blocks in one Badger write batch: as many
// as the disk has room for, oldest first. The rest wait in memory for
// space (see fitting): their records have seqs, and dropping them would
// leave a gap.
func (w *writer) writeSealed() {
	s := w.s
	blocks := w.sealed[:w.fitting()]
	if len(blocks) == 0 {
		return
	}
	var size int64
	records := 0
	wb := s.db.NewWriteBatch()
	var err error
	for _, b := range blocks {
		if err = w.addBlock(wb, b); err != nil {
			break
		}
		size += int64(len(b.buf))
		records += b.count()
	}
	dropped := s.droppedBase.Load() + s.dropped.Load()
	if err == nil && dropped != w.savedDropped {
		err = wb.Set(droppedKey, binary.BigEndian.AppendUint64(nil, uint64(dropped)))
	}
	tooLarge := s.tooLargeBase.Load() + s.tooLarge.Load()
	if err == nil && tooLarge != w.savedTooLarge {
		err = wb.Set(tooLargeKey, encodeCount(tooLarge))
	}
	if err == nil {
		err = wb.Flush()
	}
	if err != nil {
		wb.Cancel() // waits for any commit still in flight
		records = 0
		for _, b := range blocks {
			records += b.count()
		}
		s.failed.Add(int64(records))
		w.batchFailed(err, records)
	} else {
		s.bytes.Add(size)
		s.records.Add(int64(records))
		w.savedDropped = dropped
		w.savedTooLarge = tooLarge
	}
	w.dirty = true // on failure, part of the batch may have been written
	w.buf.reset()

	// Only now, after Flush or Cancel, may the blocks' memory be reused.
	w.recycle(len(blocks))

	if err == nil && s.maxBytes.Load() >= 0 && s.bytes.Load() > s.maxBytes.Load() {
		w.applyRetention()
	}
}

// recycle takes the first n sealed blocks (written or dropped) off the
// list, keeping some for reuse.
func (w *writer) recycle(n int) {
	for _, b := range w.sealed[:n] {
		if len(w.free) < maxFreeBlocks && cap(b.buf) <= 2*w.s.opts.blockBytes {
			w.free = append(w.free, b)
		}
	}
	rest := copy(w.sealed, w.sealed[n:])
	clear(w.sealed[rest:])
	w.sealed = w.sealed[:rest]
}

// blockRoom is the disk space writing a block takes: its body, and its
// index entries in Badger (a few per block and topic, far less).
func blockRoom(b *building) int64 { return int64(len(b.buf)) * 9 / 8 }

// sealedRoom is the disk space writing the sealed blocks takes.
func (w *writer) sealedRoom() int64 {
	var n int64
	for _, b := range w.sealed {
		n += blockRoom(b)
	}
	return n
}

// fitting returns how many of the sealed blocks, oldest first, the disk
// has room for. If not all, the capture stops (see room), but what fits
// in the space beyond the reserves is still written.
func (w *writer) fitting() int {
	if w.room(w.sealedRoom()) {
		return len(w.sealed)
	}
	spare, size := w.s.space.Spare(), int64(0)
	for i, b := range w.sealed {
		if size += blockRoom(b); size > spare {
			return i
		}
	}
	return len(w.sealed)
}

// room reports whether the disk has room for n more bytes (see
// kvstore.Space.Room), and says so in the log and in Stats when writing
// stops or resumes for that reason. While stopped, Ingest drops.
func (w *writer) room(n int64) bool {
	ok := w.s.space.Room(n)
	if ok == w.full {
		w.setDiskFull(!ok)
	}
	return ok
}

func (w *writer) setDiskFull(full bool) {
	s := w.s
	w.full = full
	s.diskFull.Store(full)
	if full {
		s.log.Error("capture stopped writing: the disk is full; messages are dropped and counted until space is freed, then capture resumes by itself",
			"dir", s.dir, "free", kvstore.MB(s.space.Free()), "needed", kvstore.MB(s.space.Needed()))
		return
	}
	s.log.Info("capture writes again: disk space was freed", "dir", s.dir, "free", kvstore.MB(s.space.Free()))
}

// waiting counts the records of the sealed blocks waiting for space.
func (w *writer) waiting() int {
	n := 0
	for _, b := range w.sealed {
		n += b.count()
	}
	return n
}

// reportWaiting makes Flush say that records wait for disk space.
func (w *writer) reportWaiting() {
	if n := w.waiting(); n > 0 {
		w.errs.Add(w.noSpace(fmt.Sprintf("%d records wait in memory", n)))
	}
}

// dropWaiting drops, and counts, the records still waiting for disk space
// when the store closes. Their seqs were never written, so the next Open
// gives them out again: no gap.
func (w *writer) dropWaiting() {
	if n := w.waiting(); n > 0 {
		w.s.dropped.Add(int64(n))
		w.errs.Add(w.noSpace(fmt.Sprintf("%d records dropped", n)))
		w.recycle(len(w.sealed))
	}
}

func (w *writer) noSpace(what string) error {
	s := w.s
	return fmt.Errorf("%s: the disk of %s is full (%s free; writing needs %s free): %w",
		what, s.dir, kvstore.MB(s.space.Free()), kvstore.MB(s.space.Needed()), ErrNoSpace)
}

// applyRetention runs retention unless the disk lacks even the reserve's
// slack for the deletions it writes; it runs again at the next chance.
func (w *writer) applyRetention() {
	if w.s.space.Has(0) {
		w.retain()
	}
}

// addBlock completes a block's value and adds it and its index entries to
// wb.
func (w *writer) addBlock(wb *badgerdb.WriteBatch, b *building) error {
	w.hashes = b.finish(w.groups, w.hashes)
	if len(w.groups) > 1<<16 {
		clear(w.groups) // do not keep a huge map for good
	}
	if err := w.setBlock(wb, b); err != nil {
		return err
	}
	if w.segBlocks >= w.s.opts.segmentBlocks || time.Since(w.segStart) > segmentSpan {
		if err := wb.Set(segmentKey(b.first), nil); err != nil {
			return err
		}
		w.segBlocks, w.segStart = 0, time.Now()
		clear(w.segTopics)
	}
	w.segBlocks++
	for _, h := range w.hashes {
		if _, ok := w.segTopics[h]; ok {
			continue
		}
		k := w.buf.alloc(topicKeyLen)
		putTopicKey(k, h, b.first)
		if err := wb.Set(k, nil); err != nil {
			return err
		}
		w.segTopics[h] = struct{}{}
	}
	for _, h := range w.hashes { // each of the block's topics once
		if _, ok := w.known[h]; !ok {
			if err := w.setTopicName(wb, b, h); err != nil {
				return err
			}
		}
	}
	for _, m := range b.secs {
		if err := wb.Set(secondKey(m.sec), binary.BigEndian.AppendUint64(nil, m.seq)); err != nil {
			return err
		}
	}
	if b.disordered {
		v := make([]byte, 24)
		binary.BigEndian.PutUint64(v, b.first+uint64(b.count())-1)
		binary.BigEndian.PutUint64(v[8:], uint64(b.minNs))
		binary.BigEndian.PutUint64(v[16:], uint64(b.maxNs))
		if err := wb.Set(disorderKey(b.first), v); err != nil {
			return err
		}
	}
	return nil
}

// setBlock writes the block's body to the block files and its pointer to
// wb. If the batch then fails, the file keeps the orphaned body until the
// store is next opened (a pointer of the batch may have been committed,
// so the file's reference count is not lowered).
func (w *writer) setBlock(wb *badgerdb.WriteBatch, b *building) error {
	if w.s.opts.inlineBlocks {
		return wb.Set(blockKey(b.first), b.buf)
	}
	p, err := w.s.files.write(b.buf)
	if err != nil {
		return err
	}
	v := w.buf.alloc(blockSumPtrLen)
	putBlockPtr(v, p)
	return wb.Set(blockKey(b.first), v)
}

// removeRetiredFiles deletes the block files retention emptied, unless a
// query is running (it may be reading them): the writer must not wait for
// queries. They go at a later retention or sync.
func (w *writer) removeRetiredFiles() {
	s := w.s
	if len(s.files.retired) == 0 || !s.dbMu.TryLock() {
		return
	}
	err := s.files.removeRetired()
	s.dbMu.Unlock()
	if err != nil && s.writeErrLog.Allow() {
		s.log.Warn("capture: cannot remove an emptied block file; will try again", "dir", s.dir, "error", err)
	}
}

// endSegment makes the next block start a new segment.
func (w *writer) endSegment() { w.segBlocks = w.s.opts.segmentBlocks }

// setTopicName writes the h| entry of hash, a topic of the finished block b.
func (w *writer) setTopicName(wb *badgerdb.WriteBatch, b *building, hash uint64) error {
	view, err := parseBlock(b.buf)
	if err != nil {
		return err
	}
	idx, err := view.lookup(nil, hash)
	if err != nil {
		return err
	}
	if len(idx) == 0 {
		return fmt.Errorf("%w: topic %x is not in the block's directory", errCorruptBlock, hash)
	}
	i := idx[0]
	rec, err := view.record(i)
	if err != nil {
		return err
	}
	v, err := parseRecord(rec)
	if err != nil {
		return fmt.Errorf("re-read record %d: %w", b.first+uint64(i), err)
	}
	if err := wb.Set(hashKey(hash), v.topic); err != nil {
		return err
	}
	if len(w.known) >= maxKnownTopics {
		clear(w.known)
	}
	w.known[hash] = struct{}{}
	return nil
}

func (w *writer) batchFailed(err error, records int) {
	clear(w.known) // their h| entries may not have been written
	w.endSegment() // nor its t| entries
	// Filled by someone else since room said yes: stop like room would.
	if errors.Is(err, syscall.ENOSPC) && !w.full {
		w.s.space.Stop()
		w.setDiskFull(true)
	}
	err = fmt.Errorf("write %d records: %w", records, firstLine(err))
	w.errs.Add(err)
	if w.s.writeErrLog.Allow() {
		w.s.log.Error("capture write failed", "dir", w.s.dir, "error", err)
	}
}

func (w *writer) sync() {
	w.removeRetiredFiles()
	if !w.dirty {
		return
	}
	w.dirty = false
	if err := w.s.files.sync(); err != nil {
		err = fmt.Errorf("sync block files: %w", err)
		w.errs.Add(err)
		if w.s.writeErrLog.Allow() {
			w.s.log.Error("capture sync failed", "dir", w.s.dir, "error", err)
		}
	}
	if err := w.s.db.Sync(); err != nil {
		err = fmt.Errorf("sync: %w", err)
		w.errs.Add(err)
		if w.s.writeErrLog.Allow() {
			w.s.log.Error("capture sync failed", "dir", w.s.dir, "error", err)
		}
	}
	if err := releaseMappedPages(w.s.dir); err != nil && w.s.readErrLog.Allow() {
		w.s.log.Warn("capture: cannot release mapped pages", "dir", w.s.dir, "error", err)
	}
}

// clear deletes every record: those written and those not yet written,
// and returns how many there were.
func (w *writer) clear() (int64, error) {
	s := w.s
	w.drain(false) // may write blocks (writeIfBatchFull): count after it
	st, err := s.Stats()
	if err != nil {
		return 0, err
	}
	n := st.Records
	for i := range w.held { // called during the drain: waiting too
		n += int64(len(w.held[i].recs) - w.held[i].next)
		w.held[i].reset()
	}
	w.seal()
	for _, b := range w.sealed {
		n += int64(b.count())
	}
	clear(w.sealed)
	w.sealed = w.sealed[:0]
	s.haveSec = false
	clear(w.known)
	w.endSegment()
	w.dirty = false
	// DropAll must not race queries: they hold dbMu shared.
	s.dbMu.Lock()
	defer s.dbMu.Unlock()
	if err := s.db.DropAll(); err != nil {
		return 0, err
	}
	if err := s.files.clearAll(); err != nil {
		return 0, err
	}
	s.bytes.Store(0)
	s.records.Store(0)
	s.droppedBase.Store(-s.dropped.Load())
	w.savedDropped = 0
	s.tooLargeBase.Store(-s.tooLarge.Load())
	w.savedTooLarge = 0
	s.damage.clear()
	if err := s.db.Update(func(txn *badgerdb.Txn) error {
		if err := txn.Set(formatKey, []byte{storeFormat}); err != nil {
			return err
		}
		return s.saveRetention(txn)
	}); err != nil {
		return 0, err
	}
	return n, nil
}

// Chunks of a batchBuf.
const (
	chunkSize     = 64 << 10
	maxChunkAlloc = chunkSize / 4 // larger pieces get their own allocation
	maxKeptChunks = 8             // at most 512 KiB stays allocated between batches
)

// batchBuf hands out the memory for one batch's index keys and values from
// a few chunks that are reused from batch to batch, so that they cost no
// allocation. Badger references the pieces until the batch is written;
// reset may be called only after WriteBatch.Flush or Cancel returned (both
// wait for every commit of the batch).
type batchBuf struct {
	chunks [][]byte // chunks[:cur+1] are in use
	cur    int
	off    int // bytes used in chunks[cur]
}

// alloc returns n bytes (of unspecified content) with capacity n.
func (a *batchBuf) alloc(n int) []byte {
	if n > maxChunkAlloc {
		return make([]byte, n)
	}
	if len(a.chunks) == 0 {
		a.chunks = append(a.chunks, make([]byte, chunkSize))
	}
	if a.off+n > chunkSize {
		a.cur, a.off = a.cur+1, 0
		if a.cur == len(a.chunks) {
			a.chunks = append(a.chunks, make([]byte, chunkSize))
		}
	}
	b := a.chunks[a.cur][a.off : a.off+n : a.off+n]
	a.off += n
	return b
}

// reset makes every chunk reusable, keeping at most maxKeptChunks.
func (a *batchBuf) reset() {
	if len(a.chunks) > maxKeptChunks {
		clear(a.chunks[maxKeptChunks:])
		a.chunks = a.chunks[:maxKeptChunks]
	}
	a.cur, a.off = 0, 0
}
