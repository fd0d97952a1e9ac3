package io.vrsky.admin;

import picocli.CommandLine.Command;

import java.util.List;
import java.util.concurrent.Callable;

/** {@code snapshot}: a backfill of every table the consumer streams. */
@Command(name = "snapshot", mixinStandardHelpOptions = true,
        description = "Asks postgres-consumer to copy every table it streams again (a backfill of all of them), through"
                + " POSTGRES_INPUT_SIGNAL_TABLE.")
final class SnapshotCommand implements Callable<Integer> {

    private final Context context;

    SnapshotCommand(Context context) {
        this.context = context;
    }

    @Override
    public Integer call() throws AdminFailure {
        return BackfillCommand.ask(context, List.of());
    }
}
