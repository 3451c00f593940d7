namespace SharpCtr.Serving.Store;

/// <summary>One behaviour of a user (a click, a purchase …) on an item at a moment, with the item's attributes then.</summary>
public sealed record BehaviorEvent(string UserId, string ItemId, string Action, long Timestamp, IReadOnlyDictionary<string, string[]> Attributes);
