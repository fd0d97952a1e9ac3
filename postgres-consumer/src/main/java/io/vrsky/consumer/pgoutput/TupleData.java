package io.vrsky.consumer.pgoutput;

import java.util.List;

/** The column values of one row as pgoutput sends them, in the relation's column order. */
public record TupleData(List<TupleValue> values) {

    public TupleData {
        values = List.copyOf(values);
    }

    public int size() {
        return values.size();
    }

    public TupleValue get(int index) {
        return values.get(index);
    }
}
