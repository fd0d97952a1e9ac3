package io.vrsky.admin;

import io.vrsky.core.config.ConfigException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.lang.reflect.Constructor;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * The {@code vrsky-admin} command line: {@link #run} parses the arguments, runs one command with
 * the given environment and returns the exit code ({@link AdminExit}); only {@link AdminMain}
 * exits. Errors are lines on {@code err}, never a stack trace.
 */
@Command(name = "vrsky-admin", mixinStandardHelpOptions = true, versionProvider = Admin.Version.class,
        description = "Inspect and operate a VRSky PostgreSQL pipeline (slot, stream, durables, sink, dead letters),"
                + " configured by the services' own environment variables.",
        subcommands = {StatusCommand.class, DlqCommand.class, TeardownCommand.class, BackfillCommand.class,
                SnapshotCommand.class, CommandLine.HelpCommand.class},
        footer = {"", "Exit codes: 0 ok, 1 refused or nothing done, 2 bad usage or configuration,",
                "3 PostgreSQL or NATS unreachable or refusing, 4 not found."})
final class Admin implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return AdminExit.USAGE.code();
    }

    /**
     * Runs one command line.
     *
     * @return the exit code
     */
    static int run(String[] args, Map<String, String> env, PrintWriter out, PrintWriter err, Clock clock) {
        Context context = new Context(env, out, err, clock);
        CommandLine cl = new CommandLine(new Admin(), new Factory(context));
        cl.setOut(out);
        cl.setErr(err);
        cl.setParameterExceptionHandler((e, a) -> {
            err.println(e.getMessage());
            err.println("(see: " + e.getCommandLine().getCommandSpec().qualifiedName() + " --help)");
            return AdminExit.USAGE.code();
        });
        cl.setExecutionExceptionHandler((e, commandLine, parsed) -> failed(e, err));
        int code = cl.execute(args);
        out.flush();
        err.flush();
        return code;
    }

    private static int failed(Exception e, PrintWriter err) {
        if (e instanceof AdminFailure f) {
            f.lines().forEach(err::println);
            return f.exit().code();
        }
        if (e instanceof ConfigException c) {
            c.problems().forEach(err::println);
            return AdminExit.USAGE.code();
        }
        err.println("unexpected error: " + e);
        return AdminExit.REFUSED.code();
    }

    /** Builds commands with the run's {@link Context} when they take one. */
    private static final class Factory implements CommandLine.IFactory {
        private final Context context;

        Factory(Context context) {
            this.context = context;
        }

        @Override
        public <K> K create(Class<K> cls) throws Exception {
            try {
                Constructor<K> c = cls.getDeclaredConstructor(Context.class);
                c.setAccessible(true);
                return c.newInstance(context);
            } catch (NoSuchMethodException e) {
                return CommandLine.defaultFactory().create(cls);
            }
        }
    }

    /** The version from the jar's build. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Admin.class.getPackage().getImplementationVersion();
            return new String[] {"vrsky-admin " + (v == null ? "(development build)" : v)};
        }
    }
}
