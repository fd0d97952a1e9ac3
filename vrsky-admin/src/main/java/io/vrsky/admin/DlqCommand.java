package io.vrsky.admin;

import io.vrsky.admin.connect.Nats;
import io.vrsky.admin.connect.Pg;
import io.vrsky.admin.dlq.BodyShape;
import io.vrsky.admin.dlq.DeadLetter;
import io.vrsky.admin.dlq.DeadLetterStore;
import io.vrsky.admin.dlq.DeadLetterViews;
import io.vrsky.admin.dlq.ReplayLedger;
import io.vrsky.admin.dlq.Replayer;
import io.vrsky.core.codec.EnvelopeCodec;
import io.vrsky.core.codec.EnvelopeFormatException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/** {@code dlq list|show|replay|purge}: the dead letters in the VRSKY_DLQ stream. */
@Command(name = "dlq", mixinStandardHelpOptions = true,
        description = "Dead letters in the VRSKY_DLQ stream: list, show, replay to the producer, purge.",
        subcommands = {DlqCommand.ListCommand.class, DlqCommand.ShowCommand.class, DlqCommand.ReplayCommand.class,
                DlqCommand.PurgeCommand.class})
final class DlqCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return AdminExit.USAGE.code();
    }

    private static String filter(Context context, String subject) {
        return subject != null ? subject : context.settings().defaultDlqFilter();
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "The newest dead letters, oldest first: sequence, time, subject, error class, SQLSTATE, transaction id,"
                    + " commit LSN and the error's first line.")
    static final class ListCommand implements Callable<Integer> {
        private final Context context;

        @Option(names = "--subject", paramLabel = "S",
                description = "Dead-letter subject (wildcards allowed). Default: NATS_DLQ_SUBJECT when set, else vrsky.dlq.>.")
        private String subject;

        @Option(names = "--limit", paramLabel = "N", defaultValue = "50", description = "Show the newest N (default 50; 0 = all).")
        private int limit;

        @Option(names = "--json", description = "Print JSON.")
        private boolean json;

        ListCommand(Context context) {
            this.context = context;
        }

        @Override
        public Integer call() throws AdminFailure {
            if (limit < 0) {
                throw new AdminFailure(AdminExit.USAGE, "--limit must be 0 (all) or more, was " + limit);
            }
            String filter = filter(context, subject);
            try (Nats nats = Nats.open(context.settings().nats())) {
                DeadLetterStore.Listing listing = new DeadLetterStore(nats).list(filter, limit);
                PrintWriter out = context.out();
                if (json) {
                    out.println(DeadLetterViews.listJson(listing));
                } else if (listing.letters().isEmpty()) {
                    out.println("no dead letters on " + filter);
                } else {
                    DeadLetterViews.table(listing.letters(), out);
                    if (listing.letters().size() < listing.total()) {
                        out.println("(the newest " + listing.letters().size() + " of " + listing.total() + " on " + filter
                                + "; --limit 0 lists all)");
                    }
                }
            }
            return AdminExit.OK.code();
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true,
            description = "One dead letter: every header (escapes turned back into characters) and the body, pretty-printed.")
    static final class ShowCommand implements Callable<Integer> {
        private final Context context;

        @Parameters(paramLabel = "SEQ", description = "The dead letter's sequence in VRSKY_DLQ.")
        private long seq;

        @Option(names = "--json", description = "Print JSON (headers as stored, body as JSON or base64).")
        private boolean json;

        @Option(names = "--body", description = "Print only the body (to edit it and replay it with dlq replay --edit).")
        private boolean body;

        ShowCommand(Context context) {
            this.context = context;
        }

        @Override
        public Integer call() throws AdminFailure {
            try (Nats nats = Nats.open(context.settings().nats())) {
                DeadLetter letter = new DeadLetterStore(nats).require(seq);
                if (body) {
                    context.out().println(DeadLetterViews.body(letter));
                } else if (json) {
                    context.out().println(DeadLetterViews.showJson(letter));
                } else {
                    DeadLetterViews.show(letter, context.out());
                }
            }
            return AdminExit.OK.code();
        }
    }

    @Command(name = "replay", mixinStandardHelpOptions = true,
            description = {"Publishes dead letters back to the producer's subject with Vrsky-Replay: VRSKY_DLQ-<seq>, so that the"
                    + " producer applies each exactly once although its position was passed. Fix the cause first.",
                    "The parts of a transaction dead-lettered in several messages go together, in order."})
    static final class ReplayCommand implements Callable<Integer> {
        private final Context context;

        @Parameters(paramLabel = "SEQ", arity = "0..*", description = "Sequences of dead letters in VRSKY_DLQ.")
        private List<Long> seqs = new ArrayList<>();

        @Option(names = "--all", description = "Every dead letter on the dead-letter subject (see --from).")
        private boolean all;

        @Option(names = "--from", paramLabel = "D",
                description = "With --all: the dead-letter subject. Default: NATS_DLQ_SUBJECT when set, else vrsky.dlq.>.")
        private String from;

        @Option(names = "--subject", paramLabel = "S",
                description = "Publish to this subject. Default: the dead letter's Vrsky-Source-Subject, else NATS_SUBJECT"
                        + " (a producer's wildcard filter cannot be published to: pass --subject vrsky.cdc.<database>).")
        private String subject;

        @Option(names = "--edit", paramLabel = "FILE",
                description = "Publish FILE (an edited copy of the body, from dlq show SEQ --body) instead of the body; one SEQ only."
                        + " It is a replay of its own: VRSKY_DLQ-<seq>.edit-<hash of FILE>.")
        private Path edit;

        ReplayCommand(Context context) {
            this.context = context;
        }

        @Override
        public Integer call() throws AdminFailure {
            if (all == !seqs.isEmpty()) {
                throw new AdminFailure(AdminExit.USAGE, "name the dead letters to replay (SEQ...) or pass --all, not both");
            }
            if (from != null && !all) {
                throw new AdminFailure(AdminExit.USAGE, "--from goes with --all");
            }
            if (edit != null && seqs.size() != 1) {
                throw new AdminFailure(AdminExit.USAGE, "--edit replays one dead letter: name exactly one SEQ");
            }
            byte[] edited = edit == null ? null : readEdit();
            AdminSettings settings = context.settings();
            PrintWriter out = context.out();
            Pg sink = settings.sink() == null ? null : Pg.open(settings.sink());
            try (Nats nats = Nats.open(settings.nats())) {
                ReplayLedger ledger = sink == null ? null : new ReplayLedger(sink);
                DeadLetterStore store = new DeadLetterStore(nats);
                List<DeadLetter> letters = new ArrayList<>();
                if (all) {
                    for (DeadLetter d : store.list(filter(context, from), 0).letters()) {
                        letters.add(store.require(d.seq()));
                    }
                } else {
                    for (long seq : new TreeSet<>(seqs)) {
                        letters.add(store.require(seq));
                    }
                }
                Replayer replayer = new Replayer(nats, settings.nats().stream());
                if (edited != null) {
                    DeadLetter letter = letters.get(0);
                    if (BodyShape.of(letter.body()).multiPart()) {
                        throw new AdminFailure(AdminExit.USAGE, "dead letter " + letter.seq() + " is one part of a transaction in several"
                                + " dead letters: --edit replays a single message; replay the parts without --edit");
                    }
                    String handled = handled(ledger, letter.seq(), Replayer.editedReplayId(letter.seq(), edited));
                    if (handled != null) {
                        throw new AdminFailure(AdminExit.REFUSED, List.of(handled, "nothing replayed"));
                    }
                    print(out, replayer.replayEdited(letter.seq(), edited, target(settings, letter)));
                    return AdminExit.OK.code();
                }
                List<List<DeadLetter>> groups = new ArrayList<>();
                List<String> skipped = new ArrayList<>();
                Set<Long> grouped = new HashSet<>();
                for (DeadLetter letter : letters) {
                    if (grouped.contains(letter.seq())) {
                        continue;
                    }
                    String why = notReplayable(letter);
                    if (why != null) {
                        skipped.add(why);
                        continue;
                    }
                    List<DeadLetter> parts = store.parts(letter, BodyShape.of(letter.body()));
                    parts.forEach(p -> grouped.add(p.seq()));
                    String handled = handled(ledger, parts.get(0).seq(), Replayer.replayId(parts.get(0).seq()));
                    if (handled != null) {
                        skipped.add(handled);
                        continue;
                    }
                    groups.add(parts);
                }
                if (!all && !skipped.isEmpty()) {
                    throw new AdminFailure(AdminExit.REFUSED, append(skipped, "nothing replayed"));
                }
                skipped.forEach(out::println);
                for (List<DeadLetter> parts : groups) {
                    print(out, replayer.replay(parts, target(settings, parts.get(0))));
                }
                if (groups.isEmpty()) {
                    out.println(all && skipped.isEmpty() ? "no dead letters on " + filter(context, from) : "nothing replayed");
                    return AdminExit.REFUSED.code();
                }
            } finally {
                if (sink != null) {
                    sink.close();
                }
            }
            return AdminExit.OK.code();
        }

        /** Why the producer would skip replay {@code id} (the sink recorded it already), or null. */
        private static String handled(ReplayLedger ledger, long seq, String id) throws AdminFailure {
            if (ledger == null) {
                return null;
            }
            return ledger.handledAt(id).map(at -> "dead letter " + seq + " was replayed as " + id + " already: the sink recorded it at "
                    + at + ", so the producer would skip it (if that replay failed again, it is a newer dead letter: replay that one)")
                    .orElse(null);
        }

        private byte[] readEdit() throws AdminFailure {
            byte[] bytes;
            try {
                bytes = Files.readAllBytes(edit);
            } catch (IOException e) {
                throw new AdminFailure(AdminExit.USAGE, "cannot read " + edit + ": " + e.getMessage());
            }
            try {
                new EnvelopeCodec().decode(bytes);
            } catch (EnvelopeFormatException e) {
                throw new AdminFailure(AdminExit.USAGE, edit + " is not an envelope the producer can read: " + e.getMessage());
            }
            return bytes;
        }

        private String target(AdminSettings settings, DeadLetter letter) throws AdminFailure {
            if (subject != null) {
                return subject;
            }
            String source = letter.sourceSubject();
            if (source != null && !wildcard(source)) {
                return source;
            }
            if (!wildcard(settings.nats().subject())) {
                return settings.nats().subject();
            }
            throw new AdminFailure(AdminExit.USAGE, "dead letter " + letter.seq() + " names no Vrsky-Source-Subject and NATS_SUBJECT="
                    + settings.nats().subject() + " holds wildcards: pass --subject vrsky.cdc.<database>");
        }

        private static String notReplayable(DeadLetter letter) {
            if (letter.body().length == 0) {
                return "dead letter " + letter.seq() + " has no body" + (letter.bodyOmitted() != null ? " (left out: "
                        + letter.bodyOmitted() + ")" : "") + ": nothing to replay";
            }
            if (!BodyShape.of(letter.body()).envelope()) {
                return "dead letter " + letter.seq() + " (class " + letter.errorClass() + ") holds no envelope (the original bytes of a"
                        + " message that could not be decoded): nothing to replay; fix it by hand and use --edit, or re-copy the table";
            }
            return null;
        }

        private static void print(PrintWriter out, Replayer.Result r) {
            String letters = r.deadLetterSeqs().size() == 1 ? "dead letter " + r.deadLetterSeqs().get(0)
                    : "dead letter " + r.deadLetterSeqs().get(0) + " (" + r.deadLetterSeqs().size() + " parts: "
                            + r.deadLetterSeqs().stream().map(String::valueOf).collect(Collectors.joining(", ")) + ")";
            if (r.allDuplicates()) {
                out.println(letters + " was published as " + r.replayId() + " to " + r.subject()
                        + " already (within the stream's duplicate window): not stored again");
            } else {
                out.println("replayed " + letters + " as " + r.replayId() + " to " + r.subject() + " (stream sequence"
                        + (r.streamSeqs().size() == 1 ? " " : "s ") + r.streamSeqs().stream().map(String::valueOf)
                        .collect(Collectors.joining(", ")) + ")");
            }
        }
    }

    @Command(name = "purge", mixinStandardHelpOptions = true,
            description = "Deletes dead letters: the named ones, or --all on a subject. Without --yes it lists what would go"
                    + " and exits 1.")
    static final class PurgeCommand implements Callable<Integer> {
        private final Context context;

        @Parameters(paramLabel = "SEQ", arity = "0..*", description = "Sequences of dead letters in VRSKY_DLQ.")
        private List<Long> seqs = new ArrayList<>();

        @Option(names = "--all", description = "Every dead letter on the subject (see --subject).")
        private boolean all;

        @Option(names = "--subject", paramLabel = "S",
                description = "With --all: the dead-letter subject. Default: NATS_DLQ_SUBJECT when set, else vrsky.dlq.>.")
        private String subject;

        @Option(names = "--yes", description = "Really delete.")
        private boolean yes;

        PurgeCommand(Context context) {
            this.context = context;
        }

        @Override
        public Integer call() throws AdminFailure {
            if (all == !seqs.isEmpty()) {
                throw new AdminFailure(AdminExit.USAGE, "name the dead letters to purge (SEQ...) or pass --all, not both");
            }
            if (subject != null && !all) {
                throw new AdminFailure(AdminExit.USAGE, "--subject goes with --all");
            }
            PrintWriter out = context.out();
            try (Nats nats = Nats.open(context.settings().nats())) {
                DeadLetterStore store = new DeadLetterStore(nats);
                List<DeadLetter> letters = new ArrayList<>();
                String filter = filter(context, subject);
                if (all) {
                    letters.addAll(store.list(filter, 0).letters());
                    if (letters.isEmpty()) {
                        out.println("no dead letters on " + filter);
                        return AdminExit.OK.code();
                    }
                } else {
                    for (long seq : new TreeSet<>(seqs)) {
                        letters.add(store.require(seq));
                    }
                }
                String what = letters.size() == 1 ? "1 dead letter" : letters.size() + " dead letters";
                if (!yes) {
                    DeadLetterViews.table(letters, out);
                    out.println("would delete " + what + " from " + DeadLetterStore.STREAM + "; nothing deleted: add --yes to delete");
                    return AdminExit.REFUSED.code();
                }
                if (all) {
                    long purged = store.purge(filter, letters.get(letters.size() - 1).seq());
                    out.println("deleted " + purged + (purged == 1 ? " dead letter" : " dead letters") + " on " + filter + " from "
                            + DeadLetterStore.STREAM);
                } else {
                    for (DeadLetter d : letters) {
                        store.delete(d.seq());
                    }
                    out.println("deleted " + what + " from " + DeadLetterStore.STREAM + ": "
                            + letters.stream().map(d -> String.valueOf(d.seq())).collect(Collectors.joining(", ")));
                }
            }
            return AdminExit.OK.code();
        }
    }

    static boolean wildcard(String subject) {
        return subject.contains("*") || subject.contains(">");
    }

    static List<String> append(List<String> lines, String last) {
        List<String> all = new ArrayList<>(lines);
        all.add(last);
        return all;
    }
}
