package io.vrsky.consumer.filter;

import io.vrsky.core.model.Operation;

import java.util.Collection;
import java.util.EnumSet;
import java.util.Set;

/** Operation filter (POSTGRES_INPUT_OPERATIONS). An empty set accepts every operation. */
public final class OperationFilter {

    private final Set<Operation> operations;

    public OperationFilter(Collection<Operation> operations) {
        // READ is not a stream operation: snapshot rows are published whatever POSTGRES_INPUT_OPERATIONS says
        this.operations = operations.isEmpty() ? EnumSet.complementOf(EnumSet.of(Operation.READ)) : EnumSet.copyOf(operations);
        this.operations.remove(Operation.READ);
    }

    public static OperationFilter all() {
        return new OperationFilter(Set.of());
    }

    public boolean accepts(Operation op) {
        return operations.contains(op);
    }

    /** The publication's {@code publish} option: {@code insert, update, delete, truncate} or a subset. */
    public String publishOption() {
        StringBuilder sb = new StringBuilder();
        for (Operation op : operations) {
            if (sb.length() > 0) {
                sb.append(", ");
            }
            sb.append(op.name().toLowerCase(java.util.Locale.ROOT));
        }
        return sb.toString();
    }
}
