namespace SharpCtr.Training.Metrics;

/// <summary>
/// Grouped AUCs from one pass. <see cref="Gauc"/> weights each group's AUC by its number of
/// rows; <see cref="Uauc"/> is the plain mean over groups. Only groups holding both classes
/// count (<see cref="GroupsCounted"/> of <see cref="Groups"/>, covering <see cref="RowsCounted"/>
/// rows); with no such group both values are <see cref="double.NaN"/>.
/// </summary>
public readonly record struct GroupAucResult(double Gauc, double Uauc, int GroupsCounted, int Groups, long RowsCounted);
