package io.vrsky.admin;

import io.vrsky.admin.status.StatusCollector;
import io.vrsky.admin.status.StatusJson;
import io.vrsky.admin.status.StatusReport;
import io.vrsky.admin.status.StatusText;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code status [--json] [--all]}. */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = {"The pipeline's state: the source's replication slot (or all logical slots of the database with --all),"
                + " the CDC stream and its durables, the sink's applied positions and the lag between them, dead letters per"
                + " subject, and a snapshot in progress.",
                "Every part that is configured and reachable is shown; one that is not reachable is named on stderr (exit 3);"
                        + " a configured slot that does not exist is named on stderr too (exit 4)."})
final class StatusCommand implements Callable<Integer> {

    private final Context context;

    @Option(names = "--json", description = "Print JSON with stable field names (see docs/admin.md).")
    private boolean json;

    @Option(names = "--all", description = "Every logical slot of the source database, not only the configured one.")
    private boolean all;

    StatusCommand(Context context) {
        this.context = context;
    }

    @Override
    public Integer call() {
        AdminSettings settings = context.settings();
        StatusReport report = new StatusCollector(settings, all, context.clock()).collect();
        if (json) {
            context.out().println(StatusJson.write(report));
        } else {
            StatusText.print(report, context.out());
        }
        report.errors().forEach(context.err()::println);
        if (!report.errors().isEmpty()) {
            return AdminExit.DEPENDENCY.code();
        }
        if (report.source() != null && report.source().missingSlot() != null) {
            context.err().println("replication slot " + report.source().missingSlot() + " does not exist in " + report.source().target());
            return AdminExit.NOT_FOUND.code();
        }
        return AdminExit.OK.code();
    }
}
