package io.vrsky.admin;

import io.vrsky.admin.connect.Pg;
import io.vrsky.admin.signal.Backfill;
import io.vrsky.core.config.TableList;
import io.vrsky.core.model.TableId;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code backfill TABLE...}: asks the consumer to copy tables again while it streams. */
@Command(name = "backfill", mixinStandardHelpOptions = true,
        description = {"Asks postgres-consumer to copy these tables again while streaming goes on: inserts the row"
                + " ('backfill', 'schema.a,schema.b') into POSTGRES_INPUT_SIGNAL_TABLE.",
                "Each table must be streamed by the consumer (in its publication, and in POSTGRES_INPUT_TABLES when set)."})
final class BackfillCommand implements Callable<Integer> {

    private final Context context;

    @Parameters(paramLabel = "TABLE", arity = "1..*", description = "schema.table or table (schema public).")
    private List<String> tables = new ArrayList<>();

    BackfillCommand(Context context) {
        this.context = context;
    }

    @Override
    public Integer call() throws AdminFailure {
        List<TableId> ids = new ArrayList<>();
        for (String t : tables) {
            TableId id = TableList.name(t).orElseThrow(() -> new AdminFailure(AdminExit.USAGE,
                    "'" + t + "' is not a table name: use schema.table or table, " + TableList.ALLOWED_NAME));
            ids.add(id);
        }
        return ask(context, ids);
    }

    static int ask(Context context, List<TableId> tables) throws AdminFailure {
        AdminSettings settings = context.settings();
        try (Pg pg = Pg.open(settings.requireSource())) {
            Backfill.Request r = new Backfill(settings.source()).request(pg, tables);
            context.out().println("asked for a backfill of " + String.join(", ", r.tables().stream().map(TableId::toString).toList())
                    + ": signal row " + r.id() + " in " + r.signalTable() + " (" + pg.settings().target() + ");"
                    + " postgres-consumer copies " + (r.tables().size() == 1 ? "it" : "them") + " when it reads the row");
        }
        return AdminExit.OK.code();
    }
}
