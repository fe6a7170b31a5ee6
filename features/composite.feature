Feature: An exception on a group of resources
  One exception may cover a group of resources (its members). Each member's confirmed
  deletion is recorded; the exception is closed when its last member is confirmed deleted.
  When one member's deletion is reported, the other members are checked in the same
  inventory question, so a lost report for another member does not keep it open.

  Background:
    Given the rule "ebs-encrypted" whose exceptions name a group of resources by their IDs

  Scenario Outline: The exception closes only when its last member is confirmed deleted
    Given account 111122223333 has an exception for "<members>" under "ebs-encrypted" in eu-west-1
    And the inventory shows the volumes "<members>" of account 111122223333 in eu-west-1 as still existing
    When the volumes "<deleted>" are deleted one by one in account 111122223333, eu-west-1 and each deletion is reported for "ebs-encrypted"
    Then the outcomes are "<outcomes>"
    And the exception for "<members>" of account 111122223333 under "ebs-encrypted" has "<deleted>" recorded as deleted
    And the exception for "<members>" of account 111122223333 under "ebs-encrypted" is <state>

    Examples: One member
      | members | deleted | outcomes | state  |
      | vol-1   | vol-1   | closed   | closed |

    Examples: Two members, partly and completely deleted, in either order
      | members     | deleted     | outcomes               | state      |
      | vol-1,vol-2 | vol-1       | member-deleted         | still open |
      | vol-1,vol-2 | vol-2       | member-deleted         | still open |
      | vol-1,vol-2 | vol-1,vol-2 | member-deleted, closed | closed     |
      | vol-1,vol-2 | vol-2,vol-1 | member-deleted, closed | closed     |

    Examples: Many members
      | members                       | deleted                       | outcomes                                                              | state      |
      | vol-1,vol-2,vol-3,vol-4,vol-5 | vol-3,vol-1,vol-5             | member-deleted, member-deleted, member-deleted                        | still open |
      | vol-1,vol-2,vol-3,vol-4,vol-5 | vol-5,vol-4,vol-3,vol-2,vol-1 | member-deleted, member-deleted, member-deleted, member-deleted, closed | closed     |
      | vol-1,vol-2,vol-3,vol-4,vol-5 | vol-2,vol-5,vol-1,vol-4,vol-3 | member-deleted, member-deleted, member-deleted, member-deleted, closed | closed     |

  Scenario Outline: Members whose own reports were lost are confirmed with the next report
    Given account 111122223333 has an exception for "vol-1,vol-2,vol-3" under "ebs-encrypted" in eu-west-1
    And the inventory shows the volumes "vol-1,vol-2,vol-3" of account 111122223333 in eu-west-1 as still existing
    And the inventory shows the volumes "<already deleted>" of account 111122223333 in eu-west-1 as deleted
    When the deletion of the volume "vol-1" in account 111122223333, eu-west-1 is reported for "ebs-encrypted"
    Then the outcome is "<outcome>"
    And the exception for "vol-1,vol-2,vol-3" of account 111122223333 under "ebs-encrypted" has "<recorded>" recorded as deleted

    Examples:
      | already deleted   | outcome        | recorded          |
      | vol-1             | member-deleted | vol-1             |
      | vol-1,vol-2       | member-deleted | vol-1,vol-2       |
      | vol-1,vol-2,vol-3 | closed         | vol-1,vol-2,vol-3 |

  Scenario: A member's report delivered twice records it once
    Given account 111122223333 has an exception for "vol-1,vol-2" under "ebs-encrypted" in eu-west-1
    And the inventory shows the volume "vol-1" of account 111122223333 in eu-west-1 as deleted
    And the inventory shows the volume "vol-2" of account 111122223333 in eu-west-1 as still existing
    When the deletion of the volume "vol-1" in account 111122223333, eu-west-1 is reported for "ebs-encrypted"
    And the same report is delivered again
    Then the outcomes are "member-deleted, duplicate"
    And the exception table is unchanged
    And the exception for "vol-1,vol-2" of account 111122223333 under "ebs-encrypted" has "vol-1" recorded as deleted

  Scenario: A member's report arriving after the exception closed changes nothing
    Given account 111122223333 has an exception for "vol-1,vol-2" under "ebs-encrypted" in eu-west-1
    And the inventory shows the volumes "vol-1,vol-2" of account 111122223333 in eu-west-1 as deleted
    When the deletion of the volume "vol-2" in account 111122223333, eu-west-1 is reported for "ebs-encrypted"
    And the deletion of the volume "vol-1" in account 111122223333, eu-west-1 is reported for "ebs-encrypted"
    Then the outcomes are "closed, duplicate"
    And the exception table is unchanged
    And the exception for "vol-1,vol-2" of account 111122223333 under "ebs-encrypted" is closed

  Scenario: A member that still exists is not recorded
    Given account 111122223333 has an exception for "vol-1,vol-2" under "ebs-encrypted" in eu-west-1
    And the inventory shows the volumes "vol-1,vol-2" of account 111122223333 in eu-west-1 as still existing
    When the deletion of the volume "vol-1" in account 111122223333, eu-west-1 is reported for "ebs-encrypted"
    Then the outcome is "not-confirmed"
    And the exception table is unchanged

  Scenario Outline: Only exact members count
    Given account 111122223333 has an exception for "db,db-replica" under "ebs-encrypted" in eu-west-1
    And the inventory shows the volume "<deleted>" of account 111122223333 in eu-west-1 as deleted
    When the deletion of the volume "<deleted>" in account 111122223333, eu-west-1 is reported for "ebs-encrypted"
    Then the outcome is "<outcome>"
    And the exception for "db,db-replica" of account 111122223333 under "ebs-encrypted" has "<recorded>" recorded as deleted

    Examples:
      | deleted    | outcome        | recorded   |
      | db         | member-deleted | db         |
      | db-replica | member-deleted | db-replica |
      | db-prod    | no-match       |            |
      | replica    | no-match       |            |

  Scenario: Another account's group is left alone
    Given account 111122223333 has an exception for "vol-1,vol-2" under "ebs-encrypted" in eu-west-1
    And account 444455556666 has an exception for "vol-1,vol-2" under "ebs-encrypted" in eu-west-1
    And the inventory shows the volumes "vol-1,vol-2" of account 111122223333 in eu-west-1 as deleted
    And the inventory shows the volumes "vol-1,vol-2" of account 444455556666 in eu-west-1 as deleted
    When the deletion of the volume "vol-1" in account 111122223333, eu-west-1 is reported for "ebs-encrypted"
    Then the outcome is "closed"
    And the exception for "vol-1,vol-2" of account 444455556666 under "ebs-encrypted" has "" recorded as deleted
    And the exception for "vol-1,vol-2" of account 444455556666 under "ebs-encrypted" is still open

  Scenario: A group named by ARNs records each member from its own report
    Given the rule "rds-multi-az" whose exceptions name a group of resources by their ARNs
    And account 111122223333 has an exception for "arn:aws:rds:eu-west-1:111122223333:db:db-1,arn:aws:rds:eu-west-1::db:db-2" under "rds-multi-az" in eu-west-1
    And the inventory shows the databases "db-1,db-2" of account 111122223333 in eu-west-1 as deleted
    When the deletion of the database "db-1" in account 111122223333, eu-west-1 is reported for "rds-multi-az"
    And the deletion of the database "db-2" in account 111122223333, eu-west-1 is reported for "rds-multi-az"
    Then the outcomes are "member-deleted, closed"
    And the exception for "arn:aws:rds:eu-west-1:111122223333:db:db-1,arn:aws:rds:eu-west-1::db:db-2" of account 111122223333 under "rds-multi-az" is closed

  Scenario: When the inventory cannot be reached, no member is recorded
    Given account 111122223333 has an exception for "vol-1,vol-2" under "ebs-encrypted" in eu-west-1
    And the inventory cannot be reached
    When the deletion of the volume "vol-1" in account 111122223333, eu-west-1 is reported for "ebs-encrypted"
    Then the outcome is "failed"
    And the message is retried later
    And the exception table is unchanged
