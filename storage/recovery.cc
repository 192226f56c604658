#include "storage/recovery.h"

#include <cstdio>
#include <cstring>
#include <vector>

#include "core/assert.h"
#include "storage/batch_payload.h"
#include "storage/journal.h"

namespace coffer::storage {

namespace {

Status corruption(std::string message) {
  return Status(StatusCode::corruption, std::move(message));
}

}  // namespace

Status recover(const RecoveryOptions& options, StateStore& store, Ledger& ledger,
               RecoveryReport* report) {
  *report = RecoveryReport{};
  FileSystem* fs = options.fs != nullptr ? options.fs : posix_file_system();
  auto log = [&](const std::string& line) {
    if (options.log) {
      options.log(line);
    } else {
      std::fprintf(stderr, "%s\n", line.c_str());
    }
  };
  const std::string& dir = options.journal_dir;

  Status s = store.flush();
  if (!s.ok()) return s;
  const uint64_t applied = store.last_applied_seq();
  report->store_applied_seq = applied;

  std::vector<std::pair<uint64_t, std::string>> segments;
  s = list_segments(fs, dir, &segments);
  if (s.code() == StatusCode::not_found) {
    segments.clear();  // no journal yet
  } else if (!s.ok()) {
    return s;
  }

  // ---- 1. The image ----
  StoredImage image;
  if (options.use_image) {
    if (!(s = store.load_image(&image)).ok()) return s;
  }
  // Cross-check of the image's hash during a full replay (see below).
  uint64_t verify_seq = 0, verify_hash = 0;
  if (image.present && applied < image.seq) {
    // The store's history stops before the image. Its effects S' < seq <= S can
    // only be rebuilt by replaying from a state before them: the empty one.
    if (!segments.empty() && segments.front().first == 1) {
      log("recovery: state store applied up to seq " + std::to_string(applied) +
          " but its image is at " + std::to_string(image.seq) +
          "; replaying the whole journal to rebuild the history");
      verify_seq = image.seq;
      verify_hash = image.state_hash;
      image = StoredImage{};
    } else {
      return corruption("state store " + std::string("applied seq ") + std::to_string(applied) +
                        " is below its image seq " + std::to_string(image.seq) +
                        " and the journal no longer starts at seq 1: history " +
                        std::to_string(applied + 1) + ".." + std::to_string(image.seq) +
                        " cannot be rebuilt");
    }
  }
  uint64_t S = 0;
  if (image.present) {
    const Result r = ledger.read_image(*image.reader);
    image.reader.reset();  // ends the read transaction
    if (r != Result::ok) {
      return corruption("state image as of seq " + std::to_string(image.seq) +
                        " rejected by core: " + std::string(result_name(r)));
    }
    if (ledger.state_hash() != image.state_hash || ledger.last_seq() != image.seq) {
      return corruption("state image as of seq " + std::to_string(image.seq) +
                        ": loaded state does not match its recorded hash/seq");
    }
    S = image.seq;
    report->image_loaded = true;
    report->image_seq = S;
    report->image_state_hash = image.state_hash;
  }

  // ---- 2. Replay the journal after S ----
  // Start at the segment holding S + 1 (records before it are skipped below,
  // a record straddling S is applied from S + 1 on).
  uint64_t from_seq = 0;
  for (const auto& seg : segments) {
    if (seg.first <= S + 1) from_seq = seg.first;
  }
  uint64_t journal_next = 0;  // the seq after the journal's last record (0: none read)
  if (!segments.empty()) {
    std::unique_ptr<JournalReader> reader;
    JournalReader::Options ro;
    ro.dir = dir;
    ro.fs = fs;
    if (!(s = JournalReader::open(ro, from_seq, &reader)).ok()) return s;

    std::vector<Command> commands;
    std::vector<Reply> replies;
    std::vector<CommandText> texts;
    std::vector<Effect> effect_buffer(kReplayEffectBufferCount);
    JournalRecordView v;
    for (bool has = true;;) {
      if (!(s = reader->next(&v, &has)).ok()) return s;  // names file and offset
      if (!has) break;
      const uint64_t last = v.first_seq + v.command_count - 1;
      if (last <= S) continue;
      if (report->journal_first_seq == 0) {
        if (v.first_seq > S + 1) {
          return corruption("journal " + dir + " " + reader->end_file() +
                            ": first record after the image starts at seq " +
                            std::to_string(v.first_seq) + ", expected " + std::to_string(S + 1) +
                            " (records " + std::to_string(S + 1) + ".." +
                            std::to_string(v.first_seq - 1) + " are missing)");
        }
        report->journal_first_seq = v.first_seq;
      }
      std::span<const std::byte> command_bytes;
      std::string payload_error;
      if (!decode_batch_payload(v.payload, v.command_count, &command_bytes, &texts,
                                &payload_error)) {
        return corruption("journal " + dir + "/" + reader->end_file() +
                          " record ending at offset " + std::to_string(reader->end_offset()) +
                          " (seq " + std::to_string(v.first_seq) + ".." + std::to_string(last) +
                          "): " + payload_error);
      }
      commands.resize(v.command_count);
      replies.resize(v.command_count);
      std::memcpy(commands.data(), command_bytes.data(), command_bytes.size());
      size_t begin = 0;
      for (size_t i = 0; i < commands.size(); ++i) {
        if (commands[i].seq != v.first_seq + i) {
          return corruption("journal " + dir + "/" + reader->end_file() +
                            " record ending at offset " + std::to_string(reader->end_offset()) +
                            ": command " + std::to_string(i) + " carries seq " +
                            std::to_string(commands[i].seq) + ", expected " +
                            std::to_string(v.first_seq + i));
        }
        if (commands[i].seq <= S) begin = i + 1;
      }

      EffectBatch batch;
      batch.first_seq = v.first_seq + begin;
      batch.last_seq = last;
      std::span<const Command> rest(commands.data() + begin, commands.size() - begin);
      size_t at = begin;  // replies[i] is the reply of commands[i]
      while (!rest.empty()) {
        EffectSink sink(effect_buffer);
        const size_t n = ledger.apply(rest, std::span(replies).subspan(at), sink);
        COFFER_ASSERT(n > 0);  // a sink of kReplayEffectBufferCount always fits one command
        if (last > applied) {
          for (const Effect& e : sink.effects()) {
            if (e.seq > applied) batch.effects.push_back(e);
          }
        }
        rest = rest.subspan(n);
        at += n;
      }
      // The same rule as the sequencer's live: a text is kept only if its
      // command succeeded for the first time, so replay rebuilds what live kept.
      if (last > applied) {
        for (CommandText& t : texts) {
          const Command& c = commands[t.index];
          if (t.index < begin || c.seq <= applied || !text_kept(replies[t.index])) continue;
          batch.texts.push_back(StoredText{c.seq, t.key, t.group, std::move(t.text)});
        }
      }
      report->records_replayed++;
      report->commands_replayed += commands.size() - begin;
      if (verify_seq != 0 && ledger.last_seq() == verify_seq &&
          ledger.state_hash() != verify_hash) {
        return corruption("journal replay reached seq " + std::to_string(verify_seq) +
                          " with a state hash different from the stored image's");
      }
      if (last > applied) {
        report->effects_fed += batch.effects.size();
        if (!(s = store.submit(std::move(batch))).ok()) return s;
      }
    }
    journal_next = reader->next_seq();
    if (reader->torn_tail()) {
      report->torn_tail = true;
      report->torn_tail_file = reader->torn_tail_file();
      report->torn_tail_offset = reader->torn_tail_offset();
    }
  }
  // The store must not hold effects of commands that no longer exist: the next
  // commands would reuse their sequence numbers and be skipped as re-fed.
  if (store.last_applied_seq() > ledger.last_seq()) {
    return corruption("state store applied up to seq " + std::to_string(store.last_applied_seq()) +
                      " but the image and journal " + dir + " end at seq " +
                      std::to_string(ledger.last_seq()) +
                      ": the journal lost records the store had applied");
  }

  // ---- 3. Journal segments ----
  const bool have_segments = !segments.empty();
  if (report->image_loaded && have_segments && report->journal_first_seq == 0 &&
      journal_next != S + 1) {
    // The journal ends before the image (journal_next <= S, or no complete record):
    // everything in it is in the image. Empty it so that the journal takes S + 1 next.
    report->journal_behind_image = true;
    for (const auto& seg : segments) {
      if (!(s = fs->remove(dir + "/" + seg.second)).ok()) return s;
      report->segments_removed++;
    }
    log("recovery: journal " + dir + " ends at seq " +
        std::to_string(journal_next == 0 ? 0 : journal_next - 1) + ", before the image at " +
        std::to_string(S) + "; removed its " + std::to_string(report->segments_removed) +
        " segment(s), it continues at " + std::to_string(S + 1));
    report->torn_tail = false;
  } else if (options.remove_segments_below_image && report->image_loaded) {
    // Segments all of whose records are <= S: the next segment starts at or below S + 1.
    for (size_t i = 0; i + 1 < segments.size(); ++i) {
      if (segments[i + 1].first > S + 1) break;
      if (!(s = fs->remove(dir + "/" + segments[i].second)).ok()) return s;
      report->segments_removed++;
    }
  }
  if (report->segments_removed > 0) {
    if (!(s = fs->sync_dir(dir)).ok()) return s;
  }

  // ---- 4. Done: the store has everything up to the end of the journal ----
  if (!(s = store.flush()).ok()) return s;
  report->last_seq = ledger.last_seq();
  report->next_seq = report->last_seq + 1;
  report->state_hash = ledger.state_hash();
  log("recovery: image " +
      (report->image_loaded ? "as of seq " + std::to_string(S) : std::string("none")) +
      ", replayed " + std::to_string(report->records_replayed) + " record(s) / " +
      std::to_string(report->commands_replayed) + " command(s), last seq " +
      std::to_string(report->last_seq) + ", state hash " + std::to_string(report->state_hash));
  return Status();
}

}  // namespace coffer::storage
