package io.vrsky.admin;

import io.vrsky.admin.connect.Nats;
import io.vrsky.admin.connect.Pg;
import io.vrsky.admin.teardown.Teardown;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code teardown [--dry-run] [--yes] [--subject-only]}. */
@Command(name = "teardown", mixinStandardHelpOptions = true,
        description = {"Removes what this source's pipeline created: the replication slot (refused while a consumer reads it), the"
                + " configured publication, the durable NATS_DURABLE, the stream NATS_STREAM (or, with --subject-only, only"
                + " NATS_SUBJECT's messages in it) and the slot's snapshot record.",
                "Dead letters and the sink are left alone. Without --yes it lists what would go and exits 1."})
final class TeardownCommand implements Callable<Integer> {

    private final Context context;

    @Option(names = "--dry-run", description = "List exactly what would be removed, remove nothing (exit 0).")
    private boolean dryRun;

    @Option(names = "--yes", description = "Really remove.")
    private boolean yes;

    @Option(names = "--subject-only", description = "Keep the stream (other sources share it): purge only NATS_SUBJECT's messages;"
            + " the durable goes only when its filter is exactly NATS_SUBJECT.")
    private boolean subjectOnly;

    TeardownCommand(Context context) {
        this.context = context;
    }

    @Override
    public Integer call() throws AdminFailure {
        AdminSettings settings = context.settings();
        PrintWriter out = context.out();
        Teardown teardown = new Teardown(settings, subjectOnly);
        Pg pg = settings.source().postgres() == null ? null : Pg.open(settings.source().postgres());
        try (Nats nats = Nats.open(settings.nats())) {
            Teardown.Plan plan = teardown.plan(pg, nats);
            if (!plan.refusals().isEmpty()) {
                list(out, "nothing removed; teardown would remove:", plan);
                throw new AdminFailure(AdminExit.REFUSED, plan.refusals());
            }
            if (plan.items().isEmpty()) {
                out.println("nothing to remove: no slot, publication, durable, stream or snapshot record of this pipeline exists");
                kept(out, plan.kept());
                return AdminExit.OK.code();
            }
            if (dryRun || !yes) {
                list(out, dryRun ? "teardown would remove:" : "teardown would remove (nothing removed: add --yes to remove):", plan);
                return dryRun ? AdminExit.OK.code() : AdminExit.REFUSED.code();
            }
            for (String done : teardown.execute(plan)) {
                out.println("removed " + done);
            }
            kept(out, plan.kept());
            return AdminExit.OK.code();
        } finally {
            if (pg != null) {
                pg.close();
            }
        }
    }

    private static void list(PrintWriter out, String title, Teardown.Plan plan) {
        out.println(title);
        if (plan.items().isEmpty()) {
            out.println("  (nothing)");
        }
        plan.items().forEach(i -> out.println("  " + i.description()));
        kept(out, plan.kept());
    }

    private static void kept(PrintWriter out, List<String> kept) {
        out.println("left alone:");
        kept.forEach(k -> out.println("  " + k));
    }
}
